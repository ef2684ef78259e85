// JsonlReader: a streaming reader of JSON Lines (one JSON value per line),
// parsed with simdjson's DOM parser (one parser reused for every line, lines
// parsed in place from the read buffer: no copy per line). Malformed lines are
// returned with a RecordError and their line number; reading goes on.
//
//   ASSIGN_OR_RETURN(auto reader, JsonlReader::Open(path));
//   JsonlRecord rec;
//   while (reader->Next(&rec)) {
//     if (rec.error != RecordError::kNone) { Quarantine(rec.line, rec.raw, rec.error_detail);
//     continue; } std::optional<std::string_view> id = GetString(rec.value, "id");
//   }
//   RETURN_IF_ERROR(reader->status());
//
// Rules: lines end at '\n' ("\r\n" accepted); blank lines (only spaces, tabs,
// '\r') are skipped but counted in line numbers; a UTF-8 BOM at the start is
// dropped. Errors per line:
//  - kInvalidUtf8: the line is not valid UTF-8 (simdjson validates it).
//  - kInvalidJson: any other parse error, with simdjson's message.
//  - kTruncated: the last line has no terminating newline and does not parse
//    (a cut-off file), whatever the parse error.
//  - kNotAnObject: the value is valid but not an object (require_object).
//  - kRecordTooLong: a line longer than max_record_bytes; skipped while
//    streaming, `raw` holds only its first kRawPrefixBytes bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "common/status.h"
#include "ingest/line_source.h"

namespace souk::ingest {

struct JsonlOptions {
  // --- Behavior
  bool require_object = true;  // a non-object line -> kNotAnObject
  // --- Limits
  size_t max_record_bytes = size_t{16} << 20;  // longer line -> kRecordTooLong
  // --- Performance
  size_t read_chunk_bytes = LineSource::kDefaultChunkBytes;  // bytes per read() call
};

struct JsonlRecord {
  uint64_t line = 0;             // 1-based line number
  uint64_t byte_offset = 0;      // input offset of the line's first byte
  std::string_view raw;          // the line without terminator; valid until next Next()
  simdjson::dom::element value;  // parsed value (when error == kNone); valid until next Next()
  RecordError error = RecordError::kNone;
  std::string error_detail;  // e.g. "TAPE_ERROR: The JSON document has an improper structure..."
};

// Not thread-safe (owns one simdjson parser). Memory: the read buffer (about
// read_chunk_bytes, grown only for long lines, up to max_record_bytes) plus
// the parser's internal buffers (about 10x the longest line).
class JsonlReader {
 public:
  static constexpr size_t kRawPrefixBytes = 4096;

  // Errors: NotFound naming the path; other open failures.
  static StatusOr<std::unique_ptr<JsonlReader>> Open(const std::string& path,
                                                     JsonlOptions options = {});
  // Reads from memory (tests, fuzzing).
  static std::unique_ptr<JsonlReader> FromString(std::string_view data, JsonlOptions options = {});

  ~JsonlReader();

  // Reads the next non-blank line into *rec. Returns false at end of input or
  // on an I/O error (see status()).
  bool Next(JsonlRecord* rec);

  const Status& status() const { return status_; }
  uint64_t bytes_read() const;   // input bytes consumed so far
  uint64_t total_bytes() const;  // input size, 0 if unknown

 private:
  JsonlReader(std::unique_ptr<LineSource> source, JsonlOptions options);
  void SkipLine();

  std::unique_ptr<LineSource> src_;
  JsonlOptions opts_;
  simdjson::dom::parser parser_;
  uint64_t line_ = 1;
  Status status_;
  std::string raw_copy_;
};

// ---- Field access helpers for adapters. All are thread-safe pure functions;
// they return std::nullopt when `obj` is not an object, the key is missing,
// or the value has the wrong type. A JSON null counts as missing.

// A string value.
std::optional<std::string_view> GetString(simdjson::dom::element obj, std::string_view key);
// A number (integer or floating point) or a string holding a finite decimal
// number ("12.5", " 3 " is rejected: no surrounding spaces).
std::optional<double> GetDouble(simdjson::dom::element obj, std::string_view key);
// An integer; also an integral floating point value within range (12.0) and
// a string holding an integer ("42"). Out of int64 range -> nullopt.
std::optional<int64_t> GetInt64(simdjson::dom::element obj, std::string_view key);
// true/false; also the numbers 0/1 and the strings "true"/"false"/"1"/"0".
std::optional<bool> GetBool(simdjson::dom::element obj, std::string_view key);
// Minified JSON text of any element (for copying sub-objects into the store).
std::string ToJsonString(simdjson::dom::element value);

}  // namespace souk::ingest
