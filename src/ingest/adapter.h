// Adapter: turns one kind of input (a public dataset's files, the Souk import
// format, or any CSV/JSONL with a column mapping) into store records fed to an
// Importer. Adapters are created by name from an AdapterRegistry filled at
// start-up by RegisterBuiltinAdapters(); `souk import --format NAME` picks one.
//
// Contract: an adapter never drops a record silently. A record it cannot map is
// passed to Importer::Reject with a reason; a file it cannot read at all (missing,
// wrong header) is an error naming the file and what is wrong.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "ingest/csv_reader.h"
#include "ingest/importer.h"

namespace souk::ingest {

struct AdapterOptions {
  // generic-csv / generic-jsonl: what the rows are ("events", "items", "users")
  std::string kind;
  // generic-*: target field -> source column ("item_id=product_id"); "attr.color=Colour"
  // puts a column into the item's attributes.
  std::map<std::string, std::string> mapping;
  // CSV delimiter; 0 = the adapter's default (',' or detected from the header line)
  char delimiter = 0;
  // Event type for datasets whose rows do not say (amazon-seq, tafeng): default "purchase".
  std::string event_type;
};

class Adapter {
 public:
  virtual ~Adapter() = default;
  virtual std::string_view Name() const = 0;
  // One line: which files it reads and what it makes of them.
  virtual std::string_view Description() const = 0;
  // Imports every path (files, or a folder holding the dataset's files).
  virtual Status Import(const std::vector<std::string>& paths, const AdapterOptions& options,
                        Importer& sink) = 0;
};

// Name -> adapter. Thread-safe for concurrent Find() after registration.
class AdapterRegistry {
 public:
  void Register(std::unique_ptr<Adapter> adapter);
  Adapter* Find(std::string_view name) const;
  std::vector<const Adapter*> All() const;

 private:
  std::map<std::string, std::unique_ptr<Adapter>, std::less<>> adapters_;
};

void RegisterBuiltinAdapters(AdapterRegistry& registry);

// Expands folders into the regular files inside them (sorted), keeps files as they are.
// Error when a path does not exist.
StatusOr<std::vector<std::string>> ExpandPaths(const std::vector<std::string>& paths);

// Column positions of a CSV header, with checks that name the file and the missing column.
class CsvColumns {
 public:
  CsvColumns(const CsvReader& reader, std::string file) : reader_(&reader), file_(std::move(file)) {}
  // Index of a required column, or an error naming the file, the column and the header.
  StatusOr<int> Require(std::string_view name) const;
  // Index of an optional column, or -1.
  int Optional(std::string_view name) const { return reader_->Column(name); }
  const std::vector<std::string>& header() const { return reader_->header(); }
  const CsvReader& reader() const { return *reader_; }

 private:
  const CsvReader* reader_;
  std::string file_;
};

// Field i of a record, or "" when i < 0 or out of range.
inline std::string_view Field(const CsvRecord& rec, int i) {
  return i >= 0 && static_cast<size_t>(i) < rec.fields.size() ? rec.fields[i] : std::string_view();
}

// Opens a CSV file, registers it as the importer's current source, quarantines
// malformed records (with the reader's reason and line), notes an empty file, and
// calls `on_header` once then `on_record` for each well-formed record. Fields
// longer than the validator's max_field_bytes are reported by the reader.
Status ForEachCsvRecord(Importer& sink, const std::string& path, CsvOptions options,
                        const std::function<Status(const CsvColumns&)>& on_header,
                        const std::function<Status(const CsvRecord&)>& on_record);

// Parses a timestamp field; on failure quarantines the record (bad_timestamp) and
// returns nullopt.
std::optional<int64_t> TimestampOrReject(Importer& sink, const CsvRecord& rec, std::string_view field,
                                         std::string_view value, Status* status);
RecordRef RefOf(const CsvRecord& rec);

}  // namespace souk::ingest
