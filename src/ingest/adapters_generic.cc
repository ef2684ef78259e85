// The Souk import format (`souk`) and the mapped generic formats
// (`generic-csv`, `generic-jsonl`). Format: docs/formats/souk-import.md.
#include <filesystem>
#include <fmt/format.h>

#include "ingest/adapter.h"
#include "ingest/adapters_internal.h"
#include "ingest/jsonl_reader.h"
#include "ingest/row_mapping.h"

namespace souk::ingest {
namespace {

class CsvRow final : public Row {
 public:
  CsvRow(const CsvReader& reader, const CsvRecord& rec) : reader_(reader), rec_(rec) {}
  std::optional<std::string> Text(std::string_view column) const override {
    int i = reader_.Column(column);
    if (i < 0) return std::nullopt;
    std::string_view v = Field(rec_, i);
    if (v.empty()) return std::nullopt;
    return std::string(v);
  }
  bool IsArray(std::string_view column) const override {
    auto t = Text(column);
    return t && !t->empty() && t->front() == '[';
  }
  std::vector<std::string> Columns() const override { return reader_.header(); }

 private:
  const CsvReader& reader_;
  const CsvRecord& rec_;
};

class JsonRow final : public Row {
 public:
  explicit JsonRow(simdjson::dom::object obj) : obj_(obj) {}
  std::optional<std::string> Text(std::string_view column) const override {
    simdjson::dom::element v;
    if (obj_[column].get(v) != simdjson::SUCCESS) return std::nullopt;
    switch (v.type()) {
      case simdjson::dom::element_type::NULL_VALUE: return std::nullopt;
      case simdjson::dom::element_type::STRING: {
        std::string_view s = v.get_string().value_unsafe();
        if (s.empty()) return std::nullopt;
        return std::string(s);
      }
      default: return ToJsonString(v);
    }
  }
  bool IsArray(std::string_view column) const override {
    simdjson::dom::element v;
    return obj_[column].get(v) == simdjson::SUCCESS && v.is_array();
  }
  bool IsObject(std::string_view column) const override {
    simdjson::dom::element v;
    return obj_[column].get(v) == simdjson::SUCCESS && v.is_object();
  }
  std::vector<std::string> Columns() const override {
    std::vector<std::string> out;
    for (auto field : obj_) out.emplace_back(field.key);
    return out;
  }

 private:
  simdjson::dom::object obj_;
};

Status EmitRow(Importer& sink, const RowMapping& m, const Row& row, const RecordRef& ref) {
  switch (m.kind()) {
    case RowKind::kItems: {
      store::Item it;
      if (auto r = m.BuildItem(row, &it)) return sink.Reject(ref, r->reason, r->detail);
      return sink.AddItem(std::move(it), store::ItemWriteMode::kCatalog, ref);
    }
    case RowKind::kEvents: {
      store::Event e;
      if (auto r = m.BuildEvent(row, &e)) return sink.Reject(ref, r->reason, r->detail);
      return sink.AddEvent(std::move(e), ref);
    }
    case RowKind::kUsers: {
      store::User u;
      if (auto r = m.BuildUser(row, &u)) return sink.Reject(ref, r->reason, r->detail);
      return sink.AddUser(std::move(u), ref);
    }
  }
  return OkStatus();
}

}  // namespace

Status ImportMappedCsv(Importer& sink, const std::string& path, const RowMapping& m, char delimiter) {
  CsvOptions o;
  o.delimiter = delimiter ? delimiter : DetectDelimiter(path);
  const bool events = m.kind() == RowKind::kEvents;
  const CsvReader* reader = nullptr;
  RowMapping::EventColumns ec;
  simdjson::dom::parser json;  // reused for every context field
  return ForEachCsvRecord(
      sink, path, o,
      [&](const CsvColumns& cols) -> Status {
        reader = &cols.reader();
        if (!events) return OkStatus();
        ec = m.ResolveEventColumns(cols.header());
        if (ec.type < 0) return InvalidArgumentError(sink.current_source() + ": no event type column ('type' or --map type=COLUMN)");
        if (ec.timestamp < 0) return InvalidArgumentError(sink.current_source() + ": no timestamp column ('timestamp' or --map timestamp=COLUMN)");
        return OkStatus();
      },
      [&](const CsvRecord& rec) -> Status {
        if (!events) return EmitRow(sink, m, CsvRow(*reader, rec), RefOf(rec));
        // Hot path for big event files: fields by precomputed index.
        EventFields f{Field(rec, ec.user_id), Field(rec, ec.session_id), Field(rec, ec.item_id),
                      Field(rec, ec.type),    Field(rec, ec.query),      Field(rec, ec.value),
                      Field(rec, ec.quantity), Field(rec, ec.price),     Field(rec, ec.timestamp),
                      Field(rec, ec.context)};
        store::Event e;
        if (auto r = BuildEventFromFields(f, &e, &json)) return sink.Reject(RefOf(rec), r->reason, r->detail);
        return sink.AddEvent(std::move(e), RefOf(rec));
      });
}

Status ImportMappedJsonl(Importer& sink, const std::string& path, const RowMapping& m) {
  JsonlOptions o;
  ASSIGN_OR_RETURN(auto reader, JsonlReader::Open(path, o));
  ASSIGN_OR_RETURN(std::string source, sink.OpenSource(path));
  JsonlRecord rec;
  uint64_t n = 0;
  while (reader->Next(&rec)) {
    RecordRef ref;
    ref.line = static_cast<int64_t>(rec.line);
    ref.byte_offset = static_cast<int64_t>(rec.byte_offset);
    ref.raw = rec.raw;
    if (rec.error != RecordError::kNone) {
      RETURN_IF_ERROR(sink.Reject(ref, std::string(RecordErrorName(rec.error)), rec.error_detail));
    } else {
      JsonRow row(rec.value.get_object().value_unsafe());
      RETURN_IF_ERROR(EmitRow(sink, m, row, ref));
    }
    if ((++n & 4095) == 0) sink.SetSourceProgress(reader->bytes_read());
  }
  RETURN_IF_ERROR(reader->status().WithContext(source));
  if (n == 0) {
    sink.Note("empty file: " + source);
    return sink.Reject(RecordRef{}, "empty_file", "the file has no records");
  }
  return OkStatus();
}

char DetectDelimiter(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return ',';
  char buf[4096];
  size_t n = std::fread(buf, 1, sizeof buf, f);
  std::fclose(f);
  std::string_view head(buf, n);
  head = head.substr(0, head.find('\n'));
  int commas = 0, tabs = 0, semis = 0;
  for (char c : head) {
    commas += c == ',';
    tabs += c == '\t';
    semis += c == ';';
  }
  if (tabs > commas && tabs >= semis) return '\t';
  if (semis > commas) return ';';
  return ',';
}

namespace {

class SoukFormatAdapter final : public Adapter {
 public:
  std::string_view Name() const override { return "souk"; }
  std::string_view Description() const override {
    return "Souk import format: items.jsonl, users.jsonl, events.csv or events.jsonl (a folder or the files)";
  }
  Status Import(const std::vector<std::string>& paths, const AdapterOptions& options, Importer& sink) override {
    ASSIGN_OR_RETURN(auto files, ExpandPaths(paths));
    // Items first so events find them, then users, then events.
    std::vector<std::pair<int, std::string>> order;
    for (const auto& f : files) {
      const std::string name = std::filesystem::path(f).filename().string();
      if (name.rfind("items", 0) == 0) order.push_back({0, f});
      else if (name.rfind("users", 0) == 0) order.push_back({1, f});
      else if (name.rfind("events", 0) == 0) order.push_back({2, f});
      else if (paths.size() == 1 && std::filesystem::is_directory(paths[0])) continue;  // other files in the folder
      else return InvalidArgumentError("souk format: cannot tell what '" + f + "' holds; name it items.jsonl, users.jsonl, events.csv or events.jsonl");
    }
    if (order.empty()) return InvalidArgumentError("souk format: no items.jsonl, users.jsonl or events.csv/jsonl found");
    std::stable_sort(order.begin(), order.end(), [](auto& a, auto& b) { return a.first < b.first; });
    for (const auto& [k, f] : order) {
      RowMapping m(k == 0 ? RowKind::kItems : k == 1 ? RowKind::kUsers : RowKind::kEvents, {});
      const bool jsonl = f.size() >= 6 && f.substr(f.size() - 6) == ".jsonl";
      RETURN_IF_ERROR(jsonl ? ImportMappedJsonl(sink, f, m) : ImportMappedCsv(sink, f, m, options.delimiter));
    }
    return OkStatus();
  }
};

class GenericAdapter final : public Adapter {
 public:
  explicit GenericAdapter(bool jsonl) : jsonl_(jsonl) {}
  std::string_view Name() const override { return jsonl_ ? "generic-jsonl" : "generic-csv"; }
  std::string_view Description() const override {
    return jsonl_ ? "any JSON-lines file: --kind items|events|users, --map target=key"
                  : "any CSV/TSV file: --kind items|events|users, --map target=column, --delimiter";
  }
  Status Import(const std::vector<std::string>& paths, const AdapterOptions& options, Importer& sink) override {
    RowKind kind;
    if (options.kind == "items") kind = RowKind::kItems;
    else if (options.kind == "events") kind = RowKind::kEvents;
    else if (options.kind == "users") kind = RowKind::kUsers;
    else return InvalidArgumentError(fmt::format("{} needs --kind items, events or users (got '{}')", Name(), options.kind));
    RowMapping m(kind, options.mapping);
    RETURN_IF_ERROR(m.Check());
    ASSIGN_OR_RETURN(auto files, ExpandPaths(paths));
    for (const auto& f : files) {
      RETURN_IF_ERROR(jsonl_ ? ImportMappedJsonl(sink, f, m) : ImportMappedCsv(sink, f, m, options.delimiter));
    }
    return OkStatus();
  }

 private:
  bool jsonl_;
};

}  // namespace

void RegisterGenericAdapters(AdapterRegistry& r) {
  r.Register(std::make_unique<SoukFormatAdapter>());
  r.Register(std::make_unique<GenericAdapter>(false));
  r.Register(std::make_unique<GenericAdapter>(true));
}

}  // namespace souk::ingest
