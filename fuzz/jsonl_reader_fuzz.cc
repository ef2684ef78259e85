// libFuzzer target for JsonlReader and the JSON field helpers: arbitrary bytes
// must never crash and every record must keep the reader's invariants.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ingest/jsonl_reader.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using souk::ingest::JsonlOptions;
  using souk::ingest::JsonlReader;
  using souk::ingest::JsonlRecord;
  using souk::ingest::RecordError;
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  JsonlOptions options;
  options.require_object = (flags & 1) != 0;
  if (flags & 2) options.max_record_bytes = 32;

  auto reader = JsonlReader::FromString(input, options);
  JsonlRecord rec;
  uint64_t last_line = 0;
  uint64_t last_offset = 0;
  bool first = true;
  simdjson::dom::parser reparser;
  while (reader->Next(&rec)) {
    Check(rec.line > last_line);
    Check(first || rec.byte_offset > last_offset);
    last_line = rec.line;
    last_offset = rec.byte_offset;
    first = false;
    Check(rec.byte_offset <= input.size());
    Check(rec.raw.size() <= input.size() - rec.byte_offset);
    Check(input.substr(rec.byte_offset, rec.raw.size()) == rec.raw);
    Check((rec.error == RecordError::kNone) == rec.error_detail.empty());
    if (rec.error != RecordError::kNone) continue;
    Check(rec.raw.size() <= options.max_record_bytes);
    if (options.require_object) Check(rec.value.is_object());
    // Minified output parses back to the same minified text.
    std::string json = souk::ingest::ToJsonString(rec.value);
    simdjson::dom::element again;
    Check(reparser.parse(json).get(again) == simdjson::SUCCESS);
    Check(souk::ingest::ToJsonString(again) == json);
    // The helpers accept any element and key.
    for (std::string_view key : {"id", "price", "flag", ""}) {
      (void)souk::ingest::GetString(rec.value, key);
      (void)souk::ingest::GetDouble(rec.value, key);
      (void)souk::ingest::GetInt64(rec.value, key);
      (void)souk::ingest::GetBool(rec.value, key);
    }
  }
  Check(reader->status().ok());
  Check(reader->bytes_read() == input.size());
  return 0;
}
