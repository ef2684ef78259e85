#include "ingest/line_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace souk::ingest {

std::string_view RecordErrorName(RecordError error) {
  switch (error) {
    case RecordError::kNone:
      return "none";
    case RecordError::kUnterminatedQuote:
      return "unterminated_quote";
    case RecordError::kWrongColumnCount:
      return "wrong_column_count";
    case RecordError::kInvalidUtf8:
      return "invalid_utf8";
    case RecordError::kFieldTooLong:
      return "field_too_long";
    case RecordError::kRecordTooLong:
      return "record_too_long";
    case RecordError::kInvalidJson:
      return "invalid_json";
    case RecordError::kTruncated:
      return "truncated";
    case RecordError::kNotAnObject:
      return "not_an_object";
  }
  return "unknown";
}

StatusOr<std::unique_ptr<LineSource>> LineSource::OpenFile(const std::string& path,
                                                           size_t chunk_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return NotFoundError("file not found: " + path);
    return FailedPreconditionError("cannot open " + path + ": " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return InvalidArgumentError(path + " is a directory, not a file");
  }
  std::unique_ptr<LineSource> src(new LineSource());
  src->name_ = path;
  src->fd_ = fd;
  src->chunk_bytes_ = std::max<size_t>(chunk_bytes, 4096);
  src->total_bytes_ = S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
  src->Reserve(src->chunk_bytes_);
#if defined(POSIX_FADV_SEQUENTIAL)
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  return src;
}

std::unique_ptr<LineSource> LineSource::FromString(std::string_view data) {
  std::unique_ptr<LineSource> src(new LineSource());
  src->name_ = "<string>";
  src->Reserve(data.size());
  if (!data.empty()) std::memcpy(src->buf_.get(), data.data(), data.size());
  src->end_ = data.size();
  src->total_bytes_ = data.size();
  src->eof_ = true;
  return src;
}

LineSource::~LineSource() {
  if (fd_ >= 0) ::close(fd_);
}

void LineSource::Reserve(size_t capacity) {
  std::unique_ptr<char[]> fresh(new char[capacity + kPadding]);
  size_t n = size();
  if (n > 0) std::memcpy(fresh.get(), buf_.get() + begin_, n);
  std::memset(fresh.get() + capacity, 0, kPadding);
  base_offset_ += begin_;
  begin_ = 0;
  end_ = n;
  buf_ = std::move(fresh);
  capacity_ = capacity;
}

bool LineSource::Refill() {
  if (eof_) return false;
  const size_t want_free = std::max(chunk_bytes_, size());
  if (capacity_ - end_ < want_free) {
    if (capacity_ - size() >= want_free) {
      // Enough room once the consumed prefix is dropped.
      std::memmove(buf_.get(), buf_.get() + begin_, size());
      base_offset_ += begin_;
      end_ -= begin_;
      begin_ = 0;
    } else {
      Reserve(size() + want_free);
    }
  }
  const size_t before = end_;
  while (end_ < capacity_) {
    ssize_t got = ::read(fd_, buf_.get() + end_, capacity_ - end_);
    if (got < 0) {
      if (errno == EINTR) continue;
      status_ = DataLossError("read error on " + name_ + " at byte " +
                              std::to_string(base_offset_ + end_) + ": " + std::strerror(errno));
      eof_ = true;
      break;
    }
    if (got == 0) {
      eof_ = true;
      break;
    }
    end_ += static_cast<size_t>(got);
  }
  return end_ > before;
}

void LineSource::SkipBom() {
  if (offset() != 0) return;
  while (size() < 3 && Refill()) {
  }
  if (size() >= 3 && std::memcmp(data(), "\xEF\xBB\xBF", 3) == 0) Consume(3);
}

}  // namespace souk::ingest
