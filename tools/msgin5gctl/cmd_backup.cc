// backup create|list over the admin API; restore (offline) runs msgin5gd --restore, which holds
// the verification and knows the data format.
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "tools/msgin5gctl/handlers.h"
#include "tools/msgin5gctl/progress.h"
#include "tools/msgin5gctl/output.h"

namespace msgin5gctl {

namespace json = boost::json;

Result<Rendered> RunBackupCreate(const CommandContext& c) {
  json::object body;
  if (!c.args.empty()) body["name"] = c.args[0];
  // msgin5gd answers when the backup is complete (seconds to minutes for a large store).
  auto res = WaitShowingElapsed("backup", [&] {
    return CallForObject(c, "POST", "/backups", json::serialize(body));
  });
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

// msgin5gd --restore's stderr: its progress lines become a bar on a terminal; everything else
// (and everything when stderr is not a terminal) is passed on line by line as it came.
class StderrRelay {
 public:
  void Feed(std::string_view bytes) {
    pending_.append(bytes);
    for (std::size_t nl; (nl = pending_.find('\n')) != std::string::npos;) {
      Line(pending_.substr(0, nl));
      pending_.erase(0, nl + 1);
    }
  }
  void Finish() {
    if (!pending_.empty()) Line(pending_);
    pending_.clear();
    progress_.Done();
  }

 private:
  void Line(const std::string& line) {
    if (progress_.tty()) {
      std::size_t files = 0, files_total = 0;
      unsigned long long bytes = 0, bytes_total = 0;
      if (std::sscanf(line.c_str(), "restore: copied %zu of %zu files, %llu of %llu bytes", &files,
                      &files_total, &bytes, &bytes_total) == 4) {
        total_ = bytes_total;
        return progress_.Update(bytes, bytes_total,
                                std::to_string(files) + " of " + std::to_string(files_total) +
                                    " files copied");
      }
      if (line == "restore: verifying checksums") {
        return progress_.Update(total_, total_, "verifying checksums");
      }
      progress_.Done();  // an error message goes on a line of its own
    }
    std::fprintf(stderr, "%s\n", line.c_str());
  }

  Progress progress_{"restore"};
  std::string pending_;
  std::uint64_t total_ = 0;
};

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
  int err[2];
  if (::pipe(out) != 0 || ::pipe(err) != 0) {
    return Error{Exit::kConnect, std::string("pipe: ") + std::strerror(errno)};
  }
  pid_t pid = ::fork();
  if (pid < 0) return Error{Exit::kConnect, std::string("fork: ") + std::strerror(errno)};
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    for (int fd : {out[0], out[1], err[0], err[1]}) ::close(fd);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    ::execvp(cargv[0], cargv.data());
    std::fprintf(stderr, "cannot run %s: %s\n", cargv[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  std::string text;  // msgin5gd's one line (stdout)
  StderrRelay relay;  // its progress lines and errors (stderr)
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  char buf[4096];
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;  // poll ignores negative descriptors
        continue;
      }
      if (i == 0) {
        text.append(buf, static_cast<std::size_t>(n));
      } else {
        relay.Feed(std::string_view(buf, static_cast<std::size_t>(n)));
      }
    }
  }
  relay.Finish();
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
