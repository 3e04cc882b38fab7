#include "daemon/data_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace msgin5g::daemon {

namespace {

namespace fs = std::filesystem;


std::string Octal(mode_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Clears the group and other bits of `p` (not following a symlink); notes what changed.
Status MakePrivate(const std::string& p, std::vector<std::string>* tightened) {
  struct stat st{};
  if (lstat(p.c_str(), &st) != 0 || S_ISLNK(st.st_mode) || (st.st_mode & 077) == 0) {
    return Status::Ok();
  }
  mode_t mode = st.st_mode & 07777 & ~static_cast<mode_t>(077);
  if (chmod(p.c_str(), mode) != 0) {
    return Status::Unavailable(p + " is open to group/others (mode " + Octal(st.st_mode) +
                               ") and cannot be made private: " + std::strerror(errno));
  }
  tightened->push_back(p + ": mode " + Octal(st.st_mode) + " -> " + Octal(mode));
  return Status::Ok();
}

// The pid of the process holding a conflicting lock on `fd`'s file: 0 if none (it went away), -1
// if unknown (it runs in another pid namespace, say; then the pid it wrote into the file).
pid_t Holder(int fd) {
  struct flock q{};
  q.l_type = F_WRLCK;
  q.l_whence = SEEK_SET;
  if (fcntl(fd, F_GETLK, &q) != 0) return -1;
  if (q.l_type == F_UNLCK) return 0;
  if (q.l_pid > 0) return q.l_pid;
  char buf[32] = {};
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  long written = n > 0 ? std::strtol(buf, nullptr, 10) : 0;
  return written > 0 ? static_cast<pid_t>(written) : -1;
}

Result<DataDirLock> Lock(const std::string& dir, const std::string& owner) {
  const std::string file = dir + "/" + owner + ".pid";
  int fd = open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::Unavailable("cannot open " + file + ": " + std::strerror(errno));
  DataDirLock lock(fd);
  // A classic POSIX record lock rather than flock(2): F_GETLK names the holder's pid. Nothing else
  // in the process opens this file (closing any descriptor of it would drop the lock).
  for (int attempt = 0;; ++attempt) {
    struct flock l{};
    l.l_type = F_WRLCK;
    l.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &l) == 0) break;
    int e = errno;
    if (e != EACCES && e != EAGAIN) {
      return Status::Unavailable("cannot lock " + file + ": " + std::strerror(e));
    }
    pid_t holder = Holder(fd);
    if (holder == 0 && attempt < 3) continue;  // released meanwhile: try again
    return Status(StatusCode::kConflict,
                  "storage.path " + dir + " is in use by another " + owner + " (pid " +
                      (holder > 0 ? std::to_string(holder) : std::string("unknown")) + ")");
  }
  // For people and scripts; failing to write it (a full disk) does not matter, the lock does.
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) == 0) {
    ssize_t n = pwrite(fd, pid.data(), pid.size(), 0);
    (void)n;
  }
  return lock;
}

}  // namespace

DataDirLock& DataDirLock::operator=(DataDirLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) close(fd_);
}

Result<PreparedDataDir> PrepareDataDir(const std::string& path, const std::string& owner) {
  struct stat st{};
  if (stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return Status::Unavailable("storage.path " + path + ": " + std::strerror(errno));
    }
    std::error_code ec;
    fs::create_directories(path, ec);
    if (ec) return Status::Unavailable("cannot create storage.path " + path + ": " + ec.message());
    // Whatever the umask: the payloads are nobody else's business.
    if (chmod(path.c_str(), 0700) != 0) {
      return Status::Unavailable("cannot make storage.path " + path + " private: " +
                                 std::strerror(errno));
    }
  } else if (!S_ISDIR(st.st_mode)) {
    return Status::Unavailable("storage.path " + path + " is not a directory");
  }

  auto lock = Lock(path, owner);
  if (!lock.ok()) return lock.status();
  PreparedDataDir out{std::move(lock.value()), {}};

  // A directory from before (or made by hand) may be open to others: close it, and the files in
  // it (a hard link to one of them elsewhere would otherwise stay readable).
  if (Status s = MakePrivate(path, &out.tightened); !s.ok()) {
    return Status::Unavailable("storage.path " + s.message());
  }
  std::error_code ec;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    if (Status s = MakePrivate(it->path().string(), &out.tightened); !s.ok()) return s;
  }
  if (ec) return Status::Unavailable("cannot list storage.path " + path + ": " + ec.message());
  return out;
}

}  // namespace msgin5g::daemon
