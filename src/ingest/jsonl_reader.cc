#include "ingest/jsonl_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

namespace souk::ingest {

static_assert(LineSource::kPadding >= simdjson::SIMDJSON_PADDING,
              "LineSource must leave simdjson's padding readable after every window");

JsonlReader::JsonlReader(std::unique_ptr<LineSource> source, JsonlOptions options)
    : src_(std::move(source)), opts_(options) {}

JsonlReader::~JsonlReader() = default;

StatusOr<std::unique_ptr<JsonlReader>> JsonlReader::Open(const std::string& path,
                                                         JsonlOptions options) {
  ASSIGN_OR_RETURN(auto source, LineSource::OpenFile(path, options.read_chunk_bytes));
  std::unique_ptr<JsonlReader> reader(new JsonlReader(std::move(source), options));
  reader->src_->SkipBom();
  if (!reader->src_->status().ok()) return reader->src_->status();
  return reader;
}

std::unique_ptr<JsonlReader> JsonlReader::FromString(std::string_view data, JsonlOptions options) {
  std::unique_ptr<JsonlReader> reader(new JsonlReader(LineSource::FromString(data), options));
  reader->src_->SkipBom();
  return reader;
}

uint64_t JsonlReader::bytes_read() const { return src_->offset(); }
uint64_t JsonlReader::total_bytes() const { return src_->total_bytes(); }

void JsonlReader::SkipLine() {
  for (;;) {
    const char* nl = static_cast<const char*>(std::memchr(src_->data(), '\n', src_->size()));
    if (nl != nullptr) {
      src_->Consume(static_cast<size_t>(nl - src_->data()) + 1);
      return;
    }
    src_->Consume(src_->size());
    if (!src_->Refill()) return;
  }
}

bool JsonlReader::Next(JsonlRecord* rec) {
  if (!status_.ok()) return false;
  rec->error = RecordError::kNone;
  rec->error_detail.clear();
  rec->raw = {};
  rec->value = simdjson::dom::element();
  size_t searched = 0;  // bytes of the window known to hold no '\n'
  for (;;) {
    const char* s = src_->data();
    const size_t n = src_->size();
    const char* nl = n > searched
                         ? static_cast<const char*>(std::memchr(s + searched, '\n', n - searched))
                         : nullptr;
    if (nl == nullptr) {
      searched = n;
      if (n > opts_.max_record_bytes + 1) {  // +1: a '\r' before the next '\n' is not counted
        // Too long for sure: keep a prefix, skip the rest while streaming.
        rec->line = line_;
        rec->byte_offset = src_->offset();
        raw_copy_.assign(s, std::min(n, kRawPrefixBytes));
        rec->raw = raw_copy_;
        rec->error = RecordError::kRecordTooLong;
        rec->error_detail =
            "line longer than max_record_bytes (" + std::to_string(opts_.max_record_bytes) + ")";
        SkipLine();
        ++line_;
        if (!src_->status().ok()) status_ = src_->status();
        return true;
      }
      if (!src_->eof()) {
        if (!src_->Refill() && !src_->status().ok()) {
          status_ = src_->status();
          return false;
        }
        continue;
      }
      if (n == 0) {
        if (!src_->status().ok()) status_ = src_->status();
        return false;
      }
    }
    const bool terminated = nl != nullptr;
    const size_t consumed = terminated ? static_cast<size_t>(nl - s) + 1 : n;
    size_t len = terminated ? static_cast<size_t>(nl - s) : n;
    if (len > 0 && s[len - 1] == '\r') --len;
    const bool blank =
        std::all_of(s, s + len, [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
    if (blank) {
      src_->Consume(consumed);
      ++line_;
      searched = 0;
      continue;
    }
    rec->line = line_;
    rec->byte_offset = src_->offset();
    if (len > opts_.max_record_bytes) {
      raw_copy_.assign(s, std::min(len, kRawPrefixBytes));
      rec->raw = raw_copy_;
      rec->error = RecordError::kRecordTooLong;
      rec->error_detail = "line of " + std::to_string(len) + " bytes exceeds max_record_bytes (" +
                          std::to_string(opts_.max_record_bytes) + ")";
      src_->Consume(consumed);
      ++line_;
      return true;
    }
    rec->raw = std::string_view(s, len);
    // The window keeps LineSource::kPadding readable bytes after its end, so
    // simdjson can parse in place (realloc_if_needed = false).
    simdjson::error_code err = parser_.parse(s, len, false).get(rec->value);
    if (err != simdjson::SUCCESS) {
      rec->value = simdjson::dom::element();
      if (!terminated) {
        rec->error = RecordError::kTruncated;
        rec->error_detail =
            std::string("last line has no newline and does not parse (truncated file?): ") +
            simdjson::error_message(err);
      } else if (err == simdjson::UTF8_ERROR) {
        rec->error = RecordError::kInvalidUtf8;
        rec->error_detail = simdjson::error_message(err);
      } else {
        rec->error = RecordError::kInvalidJson;
        rec->error_detail = simdjson::error_message(err);
      }
    } else if (opts_.require_object && !rec->value.is_object()) {
      rec->error = RecordError::kNotAnObject;
      rec->error_detail = "expected a JSON object, got " + [&] {
        switch (rec->value.type()) {
          case simdjson::dom::element_type::ARRAY:
            return std::string("an array");
          case simdjson::dom::element_type::STRING:
            return std::string("a string");
          case simdjson::dom::element_type::BOOL:
            return std::string("a boolean");
          case simdjson::dom::element_type::NULL_VALUE:
            return std::string("null");
          default:
            return std::string("a number");
        }
      }();
      rec->value = simdjson::dom::element();
    }
    src_->Consume(consumed);
    ++line_;
    return true;
  }
}

// ---- Helpers

namespace {

std::optional<simdjson::dom::element> Lookup(simdjson::dom::element obj, std::string_view key) {
  simdjson::dom::object o;
  if (obj.get_object().get(o) != simdjson::SUCCESS) return std::nullopt;
  simdjson::dom::element v;
  if (o.at_key(key).get(v) != simdjson::SUCCESS) return std::nullopt;
  if (v.is_null()) return std::nullopt;
  return v;
}

// Typed accessors for an element whose type() was checked (error-code API: no exceptions).
int64_t AsInt64(simdjson::dom::element v) {
  int64_t x = 0;
  if (v.get_int64().get(x) != simdjson::SUCCESS) return {};
  return x;
}
uint64_t AsUint64(simdjson::dom::element v) {
  uint64_t x = 0;
  if (v.get_uint64().get(x) != simdjson::SUCCESS) return {};
  return x;
}
double AsDouble(simdjson::dom::element v) {
  double x = 0;
  if (v.get_double().get(x) != simdjson::SUCCESS) return {};
  return x;
}
bool AsBool(simdjson::dom::element v) {
  bool x = false;
  if (v.get_bool().get(x) != simdjson::SUCCESS) return {};
  return x;
}
std::string_view AsString(simdjson::dom::element v) {
  std::string_view x;
  if (v.get_string().get(x) != simdjson::SUCCESS) return {};
  return x;
}

template <typename T>
std::optional<T> ParseWhole(std::string_view s) {
  T value{};
  if (s.empty()) return std::nullopt;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (*begin == '+') ++begin;  // from_chars rejects a leading '+'
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace

std::optional<std::string_view> GetString(simdjson::dom::element obj, std::string_view key) {
  auto v = Lookup(obj, key);
  if (!v) return std::nullopt;
  std::string_view s;
  if (v->get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
  return s;
}

std::optional<double> GetDouble(simdjson::dom::element obj, std::string_view key) {
  auto v = Lookup(obj, key);
  if (!v) return std::nullopt;
  switch (v->type()) {
    case simdjson::dom::element_type::INT64:
      return static_cast<double>(AsInt64(*v));
    case simdjson::dom::element_type::UINT64:
      return static_cast<double>(AsUint64(*v));
    case simdjson::dom::element_type::DOUBLE:
      return AsDouble(*v);
    case simdjson::dom::element_type::STRING: {
      auto d = ParseWhole<double>(AsString(*v));
      if (d && std::isfinite(*d)) return d;
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::optional<int64_t> GetInt64(simdjson::dom::element obj, std::string_view key) {
  auto v = Lookup(obj, key);
  if (!v) return std::nullopt;
  switch (v->type()) {
    case simdjson::dom::element_type::INT64:
      return AsInt64(*v);
    case simdjson::dom::element_type::UINT64: {
      uint64_t u = AsUint64(*v);
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
      return static_cast<int64_t>(u);
    }
    case simdjson::dom::element_type::DOUBLE: {
      double d = AsDouble(*v);
      // 2^63 is exactly representable; valid results lie in [-2^63, 2^63).
      if (!std::isfinite(d) || d != std::trunc(d) || d < -9223372036854775808.0 ||
          d >= 9223372036854775808.0) {
        return std::nullopt;
      }
      return static_cast<int64_t>(d);
    }
    case simdjson::dom::element_type::STRING:
      return ParseWhole<int64_t>(AsString(*v));
    default:
      return std::nullopt;
  }
}

std::optional<bool> GetBool(simdjson::dom::element obj, std::string_view key) {
  auto v = Lookup(obj, key);
  if (!v) return std::nullopt;
  switch (v->type()) {
    case simdjson::dom::element_type::BOOL:
      return AsBool(*v);
    case simdjson::dom::element_type::INT64: {
      int64_t i = AsInt64(*v);
      if (i == 0 || i == 1) return i == 1;
      return std::nullopt;
    }
    case simdjson::dom::element_type::UINT64: {
      uint64_t u = AsUint64(*v);
      if (u == 0 || u == 1) return u == 1;
      return std::nullopt;
    }
    case simdjson::dom::element_type::STRING: {
      std::string_view s(*v);
      if (s == "true" || s == "1") return true;
      if (s == "false" || s == "0") return false;
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::string ToJsonString(simdjson::dom::element value) { return simdjson::minify(value); }

}  // namespace souk::ingest
