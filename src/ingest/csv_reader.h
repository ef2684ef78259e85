// CsvReader: a streaming, memory-bounded RFC 4180 CSV/TSV reader that reports
// malformed records (with line numbers) instead of failing the whole file.
//
//   ASSIGN_OR_RETURN(auto reader, CsvReader::Open(path));
//   int title = reader->Column("title");
//   CsvRecord rec;
//   while (reader->Next(&rec)) {
//     if (rec.error != RecordError::kNone) { Quarantine(rec.line, rec.raw, rec.error_detail);
//     continue; } Use(rec.fields[title]);
//   }
//   RETURN_IF_ERROR(reader->status());   // I/O errors only
//
// Dialect:
//  - Records end at '\n'; with trim_cr a "\r\n" terminator is accepted (a lone
//    '\r' is not a terminator). End of input ends the last record.
//  - A field starting with the quote char is quoted: it may contain the
//    delimiter, newlines (the record then spans several physical lines) and
//    doubled quotes ("" -> "). Bytes after the closing quote up to the next
//    delimiter are appended literally ("ab"c -> abc), and a quote inside an
//    unquoted field is literal (a"b -> a"b), as Python's csv module does.
//  - A UTF-8 byte order mark at the start of the input is dropped.
//  - Empty lines (also "\r\n") are skipped: they are not records, but count
//    in line numbers.
//  - The header (has_header) is the first non-empty record. Duplicate or empty
//    column names are an error (Open fails naming them; FromString sets status()).
//  - Without a header the first well-formed record fixes the column count.
//
// Malformed records (returned with error != kNone, then the reader resyncs):
//  - kWrongColumnCount: "expected 8 columns, got 7" (fields are still filled).
//  - kInvalidUtf8 (validate_utf8): "invalid UTF-8 in column 3 (title) at byte 12".
//  - kFieldTooLong: a field longer than max_field_bytes; the record is parsed to
//    its end and returned with the error, the next record reads normally.
//  - kUnterminatedQuote: a quoted field reaches end of input without its
//    closing quote, or a quoted field grows past max_field_bytes across a line
//    break (a runaway quote). The reader resumes at the physical line after the
//    record's start line, so an unbalanced quote never swallows the rest of
//    the file: the following lines are read as records again.
//  - kRecordTooLong: a record longer than max_record_bytes; the reader skips
//    (streaming, without buffering it) to the line after the record's start.
//    `raw` then holds only the first kRawPrefixBytes bytes of the record.
// For kUnterminatedQuote and kRecordTooLong `fields` is empty.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "ingest/line_source.h"
#include "common/utf8.h"

namespace souk::ingest {

struct CsvOptions {
  // --- Behavior
  char delimiter = ',';                  // ',', '\t', ';', '|' ...
  char quote = '"';                      // RFC 4180 quoting; "" escapes a quote
  bool has_header = true;                // first record gives the column names
  bool validate_utf8 = true;             // invalid UTF-8 in a field -> kInvalidUtf8
  bool allow_short_last_column = false;  // a record one field short gets an empty last field
  bool trim_cr = true;                   // accept "\r\n" line ends (the '\r' is dropped)
  // --- Limits
  size_t max_field_bytes = size_t{1} << 20;    // longer field -> kFieldTooLong
  size_t max_record_bytes = size_t{64} << 20;  // longer record -> kRecordTooLong (bounds memory)
  // --- Performance
  size_t read_chunk_bytes = LineSource::kDefaultChunkBytes;  // bytes per read() call
};

struct CsvRecord {
  uint64_t line = 0;         // 1-based physical line where the record starts
  uint64_t byte_offset = 0;  // input offset of its first byte
  std::string_view raw;      // raw record text without its terminator; valid until next Next()
  std::vector<std::string_view> fields;  // unquoted values; valid until next Next()
  RecordError error = RecordError::kNone;
  std::string error_detail;  // human-readable reason naming the column, empty when OK
};

// Not thread-safe. Memory: one read buffer of read_chunk_bytes, grown (up to
// about max_record_bytes) only while a long record is being read.
// Cost: a single pass over the input; fields are views into the buffer (a
// quoted field with "" escapes is unescaped into a per-record scratch string).
class CsvReader {
 public:
  // Bytes of `raw` kept for a kRecordTooLong record.
  static constexpr size_t kRawPrefixBytes = 4096;

  // Opens `path` and reads the header (if has_header). Errors: NotFound
  // naming the path; InvalidArgument for a malformed header (unterminated
  // quote, invalid UTF-8, duplicate/empty names). An empty file is OK: the
  // header is empty and Next() returns false.
  static StatusOr<std::unique_ptr<CsvReader>> Open(const std::string& path,
                                                   CsvOptions options = {});
  // Reads from memory (tests, fuzzing). A malformed header shows in status().
  static std::unique_ptr<CsvReader> FromString(std::string_view data, CsvOptions options = {});

  ~CsvReader();

  // Column names from the header, in order (empty if !has_header or empty input).
  const std::vector<std::string>& header() const { return header_; }
  // Index of the column called `name` in the header, or -1.
  int Column(std::string_view name) const;

  // Reads the next record into *rec. Returns false at end of input, or when
  // reading stopped because of an I/O error or a bad header (see status()).
  // A malformed record is returned with rec->error != kNone.
  bool Next(CsvRecord* rec);

  // OK, or the error that stopped reading (I/O error, malformed header).
  const Status& status() const { return status_; }
  // Input bytes consumed so far (for progress), and the input size (0 if unknown).
  uint64_t bytes_read() const;
  uint64_t total_bytes() const;

 private:
  struct FieldSpan {
    size_t begin;  // offset in the record (or in scratch_ when in_scratch)
    size_t size;
    bool in_scratch;
  };
  enum class ScanOutcome { kComplete, kNeedMore, kAbort };
  struct ScanResult {
    size_t raw_size = 0;    // record length without terminator
    size_t consumed = 0;    // bytes including the terminator
    uint64_t newlines = 0;  // line breaks inside quoted fields
    size_t extent = 0;      // bytes the decision depended on (for the record limit)
    RecordError error = RecordError::kNone;
    std::string detail;
  };

  CsvReader(std::unique_ptr<LineSource> source, CsvOptions options);
  Status ReadHeader();
  // Reads one non-empty record with the scan-level checks (no column count).
  // Returns false at end of input or on I/O error.
  bool ReadRecord(CsvRecord* rec);
  ScanOutcome Scan(const char* s, const char* e, bool eof, ScanResult* r);
  // Skips to just after the first '\n' at or after the window start; streams.
  void SkipLine();
  void CheckColumns(CsvRecord* rec);
  void CheckUtf8(CsvRecord* rec) const;
  std::string ColumnLabel(size_t index) const;

  std::unique_ptr<LineSource> src_;
  CsvOptions opts_;
  std::vector<std::string> header_;
  size_t expected_columns_ = 0;  // 0 until known
  uint64_t line_ = 1;            // line number of the window start
  Status status_;
  // Per-record scratch, reused.
  std::vector<FieldSpan> spans_;
  std::string scratch_;
  std::string raw_copy_;
  ScanResult scan_;
};

}  // namespace souk::ingest
