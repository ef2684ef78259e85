// Shared plumbing of the streaming record readers (CsvReader, JsonlReader):
// the RecordError vocabulary and LineSource, a forward-only buffered byte
// window over a file or an in-memory string.
//
// Start with csv_reader.h / jsonl_reader.h; this header is what they share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace souk::ingest {

// Why one record could not be used. A reader returns such a record (with its
// line number and raw text) and then resynchronizes, so the caller can
// quarantine it and go on.
enum class RecordError {
  kNone,
  kUnterminatedQuote,  // CSV: a quoted field never closes (EOF, or a runaway quote)
  kWrongColumnCount,   // CSV: number of fields differs from the header
  kInvalidUtf8,        // a field / line is not valid UTF-8
  kFieldTooLong,       // CSV: one field exceeds CsvOptions::max_field_bytes
  kRecordTooLong,      // one record exceeds max_record_bytes; skipped to the next line
  kInvalidJson,        // JSONL: the line is not valid JSON
  kTruncated,          // JSONL: last line without newline does not parse (cut file)
  kNotAnObject,        // JSONL: valid JSON but not an object (require_object)
};

// Stable snake_case name: "none", "unterminated_quote", "wrong_column_count",
// "invalid_utf8", "field_too_long", "record_too_long", "invalid_json",
// "truncated", "not_an_object". Suitable for quarantine files and metrics.
std::string_view RecordErrorName(RecordError error);

// LineSource: a forward-only window [data(), data() + size()) of not yet
// consumed input bytes. Memory stays bounded: input is read in chunks of
// `chunk_bytes` and the buffer only grows when a caller asks for a window
// larger than what it holds (a long record); it grows by doubling, so
// re-scanning a growing window costs amortized O(record length).
//
// Every byte in [data(), data() + size() + kPadding) is readable (the padding
// content is unspecified), so a window slice can be handed to simdjson
// without copying.
//
// Ownership: owns its buffer and file descriptor. Pointers into the window
// stay valid until the next Refill() (which may move the data).
// Thread-safety: not thread-safe; one reader per thread.
class LineSource {
 public:
  static constexpr size_t kDefaultChunkBytes = size_t{4} << 20;  // 4 MiB reads
  static constexpr size_t kPadding = 64;                         // readable slack after the window

  // Opens `path` for reading. Errors: NotFound naming the path when it does
  // not exist; InvalidArgument for a directory; FailedPrecondition for other
  // open failures (permissions...), with strerror.
  static StatusOr<std::unique_ptr<LineSource>> OpenFile(const std::string& path,
                                                        size_t chunk_bytes = kDefaultChunkBytes);
  // Serves `data` from memory (copied once into a padded buffer). Never fails.
  static std::unique_ptr<LineSource> FromString(std::string_view data);

  ~LineSource();
  LineSource(const LineSource&) = delete;
  LineSource& operator=(const LineSource&) = delete;

  const char* data() const { return buf_.get() + begin_; }
  size_t size() const { return end_ - begin_; }
  // True when no more bytes will arrive (end of input or an I/O error).
  bool eof() const { return eof_; }

  // Reads more input after the current window: at least one chunk, and at
  // least as many bytes as the window already holds (doubling). Returns true
  // when the window grew; false at end of input or on an I/O error (then
  // status() is not OK). Invalidates pointers into the window.
  bool Refill();

  // Drops the first `n` bytes of the window (n <= size()).
  void Consume(size_t n) { begin_ += n; }

  // Drops a UTF-8 byte order mark if the window starts at input offset 0 with one.
  void SkipBom();

  // Input offset of data()[0], i.e. the number of bytes consumed so far.
  uint64_t offset() const { return base_offset_ + begin_; }
  // Size of the file, or of the string; 0 if unknown (pipe).
  uint64_t total_bytes() const { return total_bytes_; }
  // OK, or the I/O error that stopped reading.
  const Status& status() const { return status_; }
  const std::string& name() const { return name_; }

 private:
  LineSource() = default;
  void Reserve(size_t capacity);

  std::string name_;  // path, or "<string>"
  int fd_ = -1;
  size_t chunk_bytes_ = kDefaultChunkBytes;
  std::unique_ptr<char[]> buf_;  // capacity_ + kPadding bytes
  size_t capacity_ = 0;
  size_t begin_ = 0;          // window start in buf_
  size_t end_ = 0;            // window end in buf_
  uint64_t base_offset_ = 0;  // input offset of buf_[0]
  uint64_t total_bytes_ = 0;
  bool eof_ = false;
  Status status_;
};

}  // namespace souk::ingest
