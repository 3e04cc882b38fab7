// backup (online, POST /admin/v1/backups) and restore (offline: msgin5gd --restore does it).
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "tools/msgin5gctl/handlers.h"
#include "tools/msgin5gctl/output.h"
#include "tools/msgin5gctl/progress.h"

extern char** environ;

namespace msgin5gctl {

namespace json = boost::json;

namespace {

constexpr const char* kPackagedDaemon = "/usr/sbin/msgin5gd";
constexpr int kCannotRun = 127;  // as a shell says it

// The server resolves nothing against the client's working directory: send it absolute.
Result<std::string> AbsoluteDirectory(const std::string& dir) {
  std::error_code ec;
  std::string abs = std::filesystem::absolute(dir, ec).lexically_normal().string();
  if (ec) return UsageError("cannot make " + dir + " absolute: " + ec.message());
  while (abs.size() > 1 && abs.back() == '/') abs.pop_back();
  return abs;
}

std::string DaemonPath(const CommandContext& c) {
  if (auto d = c.inv.get("--daemon")) return *d;
  std::error_code ec;
  return std::filesystem::exists(kPackagedDaemon, ec) ? kPackagedDaemon : "msgin5gd";
}

// Runs argv (argv[0] searched in PATH when it has no '/') and waits: its exit code, 128+N for
// signal N, or kCannotRun with `why` set.
int RunAndWait(const std::vector<std::string>& argv, std::string* why) {
  std::vector<char*> ptrs;
  for (const auto& a : argv) ptrs.push_back(const_cast<char*>(a.c_str()));
  ptrs.push_back(nullptr);
  pid_t pid = -1;
  if (int err = posix_spawnp(&pid, ptrs[0], nullptr, nullptr, ptrs.data(), environ); err != 0) {
    *why = "cannot run " + argv[0] + ": " + std::strerror(err);
    return kCannotRun;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      *why = std::string("waitpid: ") + std::strerror(errno);
      return kCannotRun;
    }
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  int code = WEXITSTATUS(status);
  // posix_spawnp reports a failed exec as the child's exit code 127 on glibc.
  if (code == kCannotRun) *why = "cannot run " + argv[0] + " (exit 127: not found or not executable?)";
  return code;
}

}  // namespace

Result<Rendered> RunBackup(const CommandContext& c) {
  auto dir = AbsoluteDirectory(c.args[0]);
  if (!dir.ok()) return dir.error();
  Progress progress("backup to " + *dir);
  auto res = CallForObject(c, "POST", "/backups", json::serialize(json::object{{"directory", *dir}}));
  progress.Finish(res.ok());
  if (!res.ok()) return res.error();
  return Show(*res, FieldTable(*res).Render());
}

Result<Rendered> RunRestore(const CommandContext& c) {
  const std::string& backup = c.args[0];
  std::vector<std::string> argv = {DaemonPath(c), "--restore", backup};
  if (auto config = c.inv.get("--config")) argv.insert(argv.end(), {"--config", *config});
  if (auto data = c.inv.get("--data-dir")) argv.insert(argv.end(), {"--set", "storage.path=" + *data});
  std::string why;
  int code = 0;
  {
    Progress progress("restore from " + backup);
    code = RunAndWait(argv, &why);
    progress.Finish(code == 0);
  }
  std::string command;
  for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
  json::object out{{"backup", backup}, {"command", command}, {"exitCode", code}};
  Rendered r = Show(out, code == 0 ? "restored from " + backup + "\n" : "");
  r.exit_code = code;
  if (code != 0) r.note = why.empty() ? command + " exited with " + std::to_string(code) : why;
  return r;
}

}  // namespace msgin5gctl
