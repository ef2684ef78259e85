// libFuzzer target for CsvReader: arbitrary bytes (the first byte picks the
// options) must never crash, hang or break the reader's invariants.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/csv_reader.h"
#include "common/utf8.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using souk::ingest::CsvOptions;
  using souk::ingest::CsvReader;
  using souk::ingest::CsvRecord;
  using souk::ingest::RecordError;
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  CsvOptions options;
  static constexpr char kDelimiters[] = {',', '\t', ';', '|'};
  options.delimiter = kDelimiters[flags & 3];
  options.has_header = (flags & 4) != 0;
  options.trim_cr = (flags & 8) != 0;
  options.allow_short_last_column = (flags & 16) != 0;
  options.validate_utf8 = (flags & 32) != 0;
  if (flags & 64) {  // tiny limits exercise the too-long and runaway-quote paths
    options.max_field_bytes = 8;
    options.max_record_bytes = 48;
  }

  auto reader = CsvReader::FromString(input, options);
  if (!reader->status().ok()) {
    CsvRecord rec;
    Check(!reader->Next(&rec));
    return 0;
  }
  const size_t columns = reader->header().size();
  CsvRecord rec;
  uint64_t last_line = 0;
  uint64_t last_offset = 0;
  bool first = true;
  size_t expected_columns = columns;
  while (reader->Next(&rec)) {
    // Progress: every record starts on a later line and at a later byte.
    Check(rec.line > last_line);
    Check(first || rec.byte_offset > last_offset);
    last_line = rec.line;
    last_offset = rec.byte_offset;
    // raw is the input text at byte_offset (a prefix of it for kRecordTooLong).
    Check(rec.byte_offset <= input.size());
    Check(rec.raw.size() <= input.size() - rec.byte_offset);
    Check(input.substr(rec.byte_offset, rec.raw.size()) == rec.raw);
    Check(!rec.raw.empty());
    Check((rec.error == RecordError::kNone) == rec.error_detail.empty());
    Check(reader->bytes_read() <= input.size());
    // Without a header the first record that scanned cleanly fixes the column count.
    if (expected_columns == 0 && !options.has_header &&
        (rec.error == RecordError::kNone || rec.error == RecordError::kInvalidUtf8)) {
      expected_columns = rec.fields.size();
    }
    if (rec.error == RecordError::kNone) {
      Check(rec.fields.size() == expected_columns);
      for (std::string_view f : rec.fields) {
        Check(f.size() <= options.max_field_bytes);
        Check(f.size() <= rec.raw.size());
        if (options.validate_utf8) Check(souk::IsValidUtf8(f));
      }
      Check(rec.raw.size() <= options.max_record_bytes);
    }
    if (rec.error == RecordError::kUnterminatedQuote || rec.error == RecordError::kRecordTooLong) {
      Check(rec.fields.empty());
    }
    first = false;
  }
  Check(reader->status().ok());
  Check(reader->bytes_read() == input.size());
  return 0;
}
