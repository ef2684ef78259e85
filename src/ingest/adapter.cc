#include "ingest/adapter.h"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>

#include "store/types.h"

namespace souk::ingest {

void AdapterRegistry::Register(std::unique_ptr<Adapter> adapter) {
  std::string name(adapter->Name());
  adapters_[name] = std::move(adapter);
}

Adapter* AdapterRegistry::Find(std::string_view name) const {
  auto it = adapters_.find(name);
  return it == adapters_.end() ? nullptr : it->second.get();
}

std::vector<const Adapter*> AdapterRegistry::All() const {
  std::vector<const Adapter*> out;
  for (const auto& [n, a] : adapters_) out.push_back(a.get());
  return out;
}

StatusOr<std::vector<std::string>> ExpandPaths(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::string> files;
      for (const auto& e : std::filesystem::directory_iterator(p, ec)) {
        if (e.is_regular_file()) files.push_back(e.path().string());
      }
      std::sort(files.begin(), files.end());
      out.insert(out.end(), files.begin(), files.end());
    } else if (std::filesystem::exists(p, ec)) {
      out.push_back(p);
    } else {
      return NotFoundError("input '" + p + "' does not exist");
    }
  }
  if (out.empty()) return InvalidArgumentError("no input files given");
  return out;
}

StatusOr<int> CsvColumns::Require(std::string_view name) const {
  int i = reader_->Column(name);
  if (i >= 0) return i;
  std::string cols;
  for (const auto& h : reader_->header()) cols += (cols.empty() ? "" : ", ") + h;
  return InvalidArgumentError(fmt::format("{}: missing column '{}' (the header has: {})", file_, name,
                                          cols.empty() ? "nothing" : cols));
}

RecordRef RefOf(const CsvRecord& rec) {
  RecordRef r;
  r.line = static_cast<int64_t>(rec.line);
  r.byte_offset = static_cast<int64_t>(rec.byte_offset);
  r.raw = rec.raw;
  return r;
}

Status ForEachCsvRecord(Importer& sink, const std::string& path, CsvOptions options,
                        const std::function<Status(const CsvColumns&)>& on_header,
                        const std::function<Status(const CsvRecord&)>& on_record) {
  options.max_field_bytes = sink.validator().options().max_field_bytes;
  ASSIGN_OR_RETURN(auto reader, CsvReader::Open(path, options));
  ASSIGN_OR_RETURN(std::string source, sink.OpenSource(path));
  if (options.has_header && reader->header().empty()) {
    sink.Note("empty file: " + source + " has no header and no records");
    RecordRef ref;
    return sink.Reject(ref, "empty_file", "the file is empty (no header, no records)");
  }
  CsvColumns cols(*reader, source);
  RETURN_IF_ERROR(on_header(cols));
  CsvRecord rec;
  uint64_t n = 0;
  while (reader->Next(&rec)) {
    if (rec.error != RecordError::kNone) {
      RETURN_IF_ERROR(sink.Reject(RefOf(rec), std::string(RecordErrorName(rec.error)), rec.error_detail));
    } else {
      RETURN_IF_ERROR(on_record(rec));
    }
    if ((++n & 4095) == 0) sink.SetSourceProgress(reader->bytes_read());
  }
  RETURN_IF_ERROR(reader->status().WithContext(source));
  sink.SetSourceProgress(reader->bytes_read());
  if (n == 0) sink.Note("no records: " + source + " has a header but no rows");
  return OkStatus();
}

std::optional<int64_t> TimestampOrReject(Importer& sink, const CsvRecord& rec, std::string_view field,
                                         std::string_view value, Status* status) {
  auto ts = store::ParseTimestampMs(value);
  if (!ts) {
    *status = sink.Reject(RefOf(rec), value.empty() ? "missing_field" : "bad_timestamp",
                          value.empty() ? fmt::format("required field '{}' is empty", field)
                                        : fmt::format("field '{}' = '{}' is not a timestamp", field,
                                                      value.substr(0, 40)));
  }
  return ts;
}

}  // namespace souk::ingest
