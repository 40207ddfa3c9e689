#include "util/regular_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace trifecta::core {

RegularFile& RegularFile::operator=(RegularFile&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    st_ = o.st_;
    o.fd_ = -1;
  }
  return *this;
}

RegularFile::~RegularFile() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

Error errno_error(int e, std::string_view shown) {
  const std::string name(shown);
  if (e == ENOENT || e == ENOTDIR) return make_error(Errc::kNotFound, "no such file: " + name);
  if (e == EACCES || e == EPERM) return make_error(Errc::kPermission, "permission denied: " + name);
  if (e == ELOOP)
    return make_error(Errc::kInvalidArgument, "not a regular file (a symlink): " + name);
  return make_error(Errc::kIo, "cannot read " + name + ": " + std::strerror(e));
}

}  // namespace

Result<RegularFile> open_regular_file(const std::filesystem::path& path, std::string_view shown) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return errno_error(errno, shown);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return errno_error(e, shown);
  }
  RegularFile file(fd, st);
  if (!S_ISREG(st.st_mode))
    return make_error(Errc::kInvalidArgument, "not a regular file: " + std::string(shown));
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) return errno_error(errno, shown);
  return file;
}

Result<std::string> read_regular_file(const std::filesystem::path& path, std::string_view shown,
                                      std::size_t max_bytes) {
  auto file = open_regular_file(path, shown);
  if (!file) return file.error();
  const std::size_t size = file->size();
  if (size > max_bytes) {
    return make_error(Errc::kTooLarge, std::string(shown) + " is " + std::to_string(size) +
                                           " bytes (limit " + std::to_string(max_bytes) + ")");
  }
  std::string out(size, '\0');
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(file->fd(), out.data() + got, size - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error(errno, shown);
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

}  // namespace trifecta::core
