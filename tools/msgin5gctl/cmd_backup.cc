// backup create|list over the admin API; restore (offline) runs msgin5gd --restore, which holds
// the verification and knows the data format.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "tools/msgin5gctl/handlers.h"
#include "tools/msgin5gctl/output.h"

namespace msgin5gctl {

namespace json = boost::json;

Result<Rendered> RunBackupCreate(const CommandContext& c) {
  json::object body;
  if (!c.args.empty()) body["name"] = c.args[0];
  auto res = CallForObject(c, "POST", "/backups", json::serialize(body));
  if (!res.ok()) return res.error();
  return Show(*res, FieldTable(*res).Render());
}

Result<Rendered> RunBackupList(const CommandContext& c) {
  auto res = CallForObject(c, "GET", "/backups");
  if (!res.ok()) return res.error();
  Table t({"NAME", "CREATED", "FILES", "BYTES", "SEQUENCE", "FORMAT"});
  if (const auto* arr = res->if_contains("backups"); arr != nullptr && arr->is_array()) {
    for (const auto& b : arr->get_array()) {
      t.Add({CellOf(b, "name"), CellOf(b, "createdAt"), CellOf(b, "files"), CellOf(b, "bytes"),
             CellOf(b, "sequence"), CellOf(b, "formatVersion")});
    }
  }
  return Show(*res, t.Render());
}

namespace {

// --daemon PATH, else $MSGIN5GD, else the packaged /usr/sbin/msgin5gd (or /usr/local/sbin), else
// msgin5gd from PATH.
std::string DaemonBinary(const CommandContext& c) {
  if (auto d = c.inv.get("--daemon")) return *d;
  if (const char* env = std::getenv("MSGIN5GD"); env != nullptr && *env != '\0') return env;
  for (const char* p : {"/usr/sbin/msgin5gd", "/usr/local/sbin/msgin5gd"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "msgin5gd";  // PATH
}

}  // namespace

Result<Rendered> RunRestore(const CommandContext& c) {
  std::vector<std::string> argv = {DaemonBinary(c)};
  if (auto config = c.inv.get("--config")) {
    argv.insert(argv.end(), {"--config", *config});
  } else if (::access("/etc/msgin5g/msgin5gd.toml", R_OK) == 0) {
    argv.insert(argv.end(), {"--config", "/etc/msgin5g/msgin5gd.toml"});
  }
  if (auto dir = c.inv.get("--data-dir")) argv.insert(argv.end(), {"--set", "storage.path=" + *dir});
  argv.insert(argv.end(), {"--restore", c.args[0]});

  int out[2];
  if (::pipe(out) != 0) return Error{Exit::kConnect, std::string("pipe: ") + std::strerror(errno)};
  pid_t pid = ::fork();
  if (pid < 0) return Error{Exit::kConnect, std::string("fork: ") + std::strerror(errno)};
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    ::execvp(cargv[0], cargv.data());
    std::fprintf(stderr, "cannot run %s: %s\n", cargv[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;  // msgin5gd's one line; its errors go straight to our stderr
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::string command;
  for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
  Rendered r = Show(json::object{{"command", command}, {"exitCode", code}, {"output", text}}, text);
  if (code != 0) {
    r.exit_code = code;
    r.note = argv[0] + " --restore exited with " + std::to_string(code);
  }
  return r;
}

}  // namespace msgin5gctl
