#include "workspace/file_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/paths.hpp"
#include "util/regular_file.hpp"
#include "util/utf8.hpp"

namespace trifecta::core::workspace {

std::string_view read_purpose_name(ReadPurpose p) noexcept {
  switch (p) {
    case ReadPurpose::kIndex: return "index";
    case ReadPurpose::kSkeleton: return "skeleton";
    case ReadPurpose::kExcerpt: return "excerpt";
    case ReadPurpose::kRaw: return "raw";
    case ReadPurpose::kValidate: return "validate";
    case ReadPurpose::kRank: return "rank";
  }
  return "index";
}

ReadStats& ReadStats::operator=(const ReadStats& other) {
  for (std::size_t i = 0; i < kReadPurposeCount; ++i) {
    bytes_[i].store(other.bytes_[i].load(std::memory_order_relaxed), std::memory_order_relaxed);
    files_[i].store(other.files_[i].load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
  return *this;
}

void ReadStats::add(ReadPurpose p, std::size_t bytes, std::uint64_t files) {
  bytes_[idx(p)].fetch_add(bytes, std::memory_order_relaxed);
  files_[idx(p)].fetch_add(files, std::memory_order_relaxed);
}

std::uint64_t ReadStats::total_bytes() const {
  std::uint64_t t = 0;
  for (const auto& b : bytes_) t += b.load(std::memory_order_relaxed);
  return t;
}

std::uint64_t ReadStats::total_files() const {
  std::uint64_t t = 0;
  for (const auto& f : files_) t += f.load(std::memory_order_relaxed);
  return t;
}

std::string_view skip_reason_of(Errc code) noexcept {
  switch (code) {
    case Errc::kBinary: return "binary";
    case Errc::kTooLarge: return "too_large";
    case Errc::kPermission:
    case Errc::kIo: return "unreadable";
    case Errc::kNotFound: return "missing";
    case Errc::kPathEscape: return "outside_segment";
    case Errc::kInvalidArgument: return "not_regular";
    default: return "error";
  }
}

FileReader::FileReader(fs::path root, std::size_t max_file_bytes)
    : root_(std::move(root)), max_file_bytes_(max_file_bytes) {}

namespace {

Error errno_error(int e, std::string_view rel) {
  if (e == ENOENT || e == ENOTDIR) return make_error(Errc::kNotFound, "no such file: " + std::string(rel));
  if (e == EACCES || e == EPERM) return make_error(Errc::kPermission, "permission denied: " + std::string(rel));
  return make_error(Errc::kIo, "cannot read " + std::string(rel) + ": " + std::strerror(e));
}

struct Resolved {
  fs::path abs;
  std::string rel;
};

Result<Resolved> resolve(const fs::path& root, std::string_view path) {
  auto abs = resolve_in_root(root, path);
  if (!abs) return abs.error();
  Resolved r;
  r.rel = abs->lexically_relative(root).generic_string();
  if (r.rel.empty() || r.rel == ".") return make_error(Errc::kInvalidArgument, "not a file: " + std::string(path));
  r.abs = std::move(*abs);
  return r;
}

}  // namespace

Result<FileReader::Meta> FileReader::stat(std::string_view path) const {
  auto r = resolve(root_, path);
  if (!r) return r.error();
  struct stat st {};
  if (::stat(r->abs.c_str(), &st) != 0) return errno_error(errno, r->rel);
  if (!S_ISREG(st.st_mode)) return make_error(Errc::kInvalidArgument, "not a regular file: " + r->rel);
  Meta m;
  m.size = static_cast<std::size_t>(st.st_size);
  m.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return m;
}

Result<FileReader::Opened> FileReader::open_checked(std::string_view path) const {
  auto r = resolve(root_, path);
  if (!r) return r.error();
  // THE open of a segment file: non-blocking, no final symlink, regular files only (a FIFO never
  // blocks a worker).
  auto file = open_regular_file(r->abs, r->rel);
  if (!file) return file.error();
  if (file->size() > max_file_bytes_) {
    return make_error(Errc::kTooLarge, r->rel + " is " + std::to_string(file->size()) + " bytes (limit " +
                                           std::to_string(max_file_bytes_) + ")");
  }
  return Opened{std::move(*file), std::move(r->rel)};
}

Result<FileContent> FileReader::read_raw(std::string_view path, ReadPurpose purpose, ReadStats* stats) const {
  auto opened = open_checked(path);
  if (!opened) return opened.error();
  Opened& f = *opened;
  const int fd = f.file.fd();
  const auto size = f.file.size();
  std::string bytes;
  bytes.resize(size);
  std::size_t got = 0;
  // The first 8 KiB are read and checked on their own: most binaries (objects, archives,
  // images) show a NUL there, and the rest of them is then never read.
  constexpr std::size_t kSniff = 8192;
  bool sniffed = false;
  while (got < size) {
    const std::size_t want = sniffed ? size - got : std::min(size, kSniff) - got;
    const ssize_t n = ::read(fd, bytes.data() + got, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error(errno, f.rel);
    }
    if (n == 0) break;  // truncated while reading: take what is there
    got += static_cast<std::size_t>(n);
    if (!sniffed && got >= std::min(size, kSniff)) {
      sniffed = true;
      if (std::memchr(bytes.data(), '\0', got) != nullptr) {
        if (stats) stats->add(purpose, got);
        totals_.add(purpose, got);
        return make_error(Errc::kBinary, f.rel + " contains NUL bytes (binary)");
      }
    }
  }
  bytes.resize(got);
  if (stats) stats->add(purpose, got);
  totals_.add(purpose, got);
  if (std::memchr(bytes.data(), '\0', bytes.size()) != nullptr) {
    return make_error(Errc::kBinary, f.rel + " contains NUL bytes (binary)");
  }
  FileContent out;
  out.raw_bytes = got;
  out.mtime_ns = f.file.mtime_ns();
  out.rel = std::move(f.rel);
  out.text = std::move(bytes);
  return out;
}

Result<FileReader::Ranges> FileReader::open_ranges(std::string_view path) const {
  auto opened = open_checked(path);
  if (!opened) return opened.error();
  return Ranges(std::move(opened->file), std::move(opened->rel), totals_);
}

Result<std::string> FileReader::Ranges::read(std::uint64_t offset, std::size_t n, ReadPurpose purpose,
                                             ReadStats* stats) {
  std::string bytes;
  const std::uint64_t size = file_.size();
  if (offset < size) bytes.resize(static_cast<std::size_t>(std::min<std::uint64_t>(n, size - offset)));
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t k = ::pread(file_.fd(), bytes.data() + got, bytes.size() - got, static_cast<off_t>(offset + got));
    if (k < 0) {
      if (errno == EINTR) continue;
      return errno_error(errno, rel_);
    }
    if (k == 0) break;  // truncated since the open: take what is there
    got += static_cast<std::size_t>(k);
  }
  bytes.resize(got);
  const std::uint64_t files = counted_ ? 0 : 1;
  counted_ = true;
  if (stats) stats->add(purpose, got, files);
  totals_->add(purpose, got, files);
  return bytes;
}

Result<FileContent> FileReader::read_bytes(std::string_view path, ReadPurpose purpose, ReadStats* stats) const {
  return read_raw(path, purpose, stats);
}

Result<FileContent> FileReader::read(std::string_view path, ReadPurpose purpose, ReadStats* stats) const {
  auto out = read_raw(path, purpose, stats);
  if (!out) return out;
  std::string decoded;
  const utf8::Decoded d = utf8::decode_source(out->text, decoded);
  out->encoding = d.encoding;
  out->replaced_bytes = d.replaced_bytes;
  if (d.changed) out->text = std::move(decoded);
  return out;
}

}  // namespace trifecta::core::workspace
