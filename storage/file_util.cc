#include "storage/file_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include <openssl/evp.h>

namespace msgin5g::storage {
namespace {

Status Errno(const std::string& what, const std::string& path) {
  return Status::Unavailable(what + " " + path + ": " + std::strerror(errno));
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // close() reports deferred write errors (NFS, quota): check it on files written.
  bool Close() {
    int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }

 private:
  int fd_;
};

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::string Hex(const unsigned char* d, unsigned n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (unsigned i = 0; i < n; ++i) {
    out.push_back(kDigits[d[i] >> 4]);
    out.push_back(kDigits[d[i] & 0xf]);
  }
  return out;
}

// Reads `in` to its end, hashing it and, when out >= 0, writing it there.
Result<std::string> Pump(int in, int out, const std::string& from, const std::string& to,
                         std::uint64_t* bytes) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return Status::Internal("SHA-256 is not available");
  }
  std::vector<char> buf(1 << 20);
  std::uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot read", from);
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(n));
    total += static_cast<std::uint64_t>(n);
    for (ssize_t off = 0; out >= 0 && off < n;) {
      ssize_t w = ::write(out, buf.data() + off, static_cast<std::size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Errno("cannot write", to);
      off += w;
    }
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  if (bytes != nullptr) *bytes = total;
  return Hex(md, len);
}

}  // namespace

Result<std::string> Sha256File(const std::string& path, std::uint64_t* bytes) {
  Fd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return Errno("cannot open", path);
  return Pump(in.get(), -1, path, "", bytes);
}

Result<std::string> CopyFileSynced(const std::string& from, const std::string& to,
                                   std::uint64_t* bytes) {
  Fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return Errno("cannot open", from);
  Fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.get() < 0) return Errno("cannot create", to);
  auto hash = Pump(in.get(), out.get(), from, to, bytes);
  if (!hash.ok()) return hash;
  if (::fsync(out.get()) != 0) return Errno("cannot fsync", to);
  if (!out.Close()) return Errno("cannot close", to);
  return hash;
}

Status WriteFileAtomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  {
    Fd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (out.get() < 0) return Errno("cannot create", tmp);
    for (std::size_t off = 0; off < content.size();) {
      ssize_t w = ::write(out.get(), content.data() + off, content.size() - off);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Errno("cannot write", tmp);
      off += static_cast<std::size_t>(w);
    }
    if (::fsync(out.get()) != 0) return Errno("cannot fsync", tmp);
    if (!out.Close()) return Errno("cannot close", tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("cannot rename into", path);
  auto slash = path.rfind('/');
  return SyncDirectory(slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash));
}

Status SyncDirectory(const std::string& dir) {
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.get() < 0) return Errno("cannot open directory", dir);
  if (::fsync(d.get()) != 0) return Errno("cannot fsync directory", dir);
  return Status::Ok();
}

}  // namespace msgin5g::storage
