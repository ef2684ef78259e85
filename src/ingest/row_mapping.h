// Mapping rows of any shape (a CSV record, a JSON object) onto store records:
// used by the Souk import format and by generic-csv / generic-jsonl.
#pragma once

#include <map>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/validator.h"
#include "store/types.h"

namespace simdjson::dom {
class parser;
}  // namespace simdjson::dom

namespace souk::ingest {

// A row whose fields can be read by column name.
class Row {
 public:
  virtual ~Row() = default;
  // The field as text: strings as they are, numbers and booleans as written,
  // objects and arrays as minified JSON. nullopt when absent, empty or null.
  virtual std::optional<std::string> Text(std::string_view column) const = 0;
  // Whether the field is a JSON array/object (for lists such as images or category paths).
  virtual bool IsArray(std::string_view column) const { return false; }
  virtual bool IsObject(std::string_view column) const { return false; }
  virtual std::vector<std::string> Columns() const = 0;
};

enum class RowKind { kItems, kEvents, kUsers };

// The raw text of an event's fields (empty = absent), in the order of the
// events.csv columns. Views must outlive the call that uses them.
struct EventFields {
  std::string_view user_id, session_id, item_id, type, query, value, quantity, price, timestamp, context;
};

// Builds an event from its raw fields (the one place event fields are parsed).
// `json` (optional) is a parser reused across calls to check the context field.
std::optional<Rejection> BuildEventFromFields(const EventFields& f, store::Event* e,
                                              simdjson::dom::parser* json = nullptr);

// Target field -> source column. Missing targets use the default names (and a
// few aliases: item_id|id|product_id|sku for items, user_id|customer_id, ...).
class RowMapping {
 public:
  RowMapping(RowKind kind, std::map<std::string, std::string> explicit_mapping);
  // Checks that every explicit target is a known field of this kind.
  Status Check() const;
  // Resolves the source column for a target field given the row's columns.
  std::string Source(std::string_view target, const std::vector<std::string>& columns) const;
  RowKind kind() const { return kind_; }
  // Targets known for this kind.
  static const std::vector<std::string>& Targets(RowKind kind);

  // Builds records; on failure returns a rejection (reason + detail naming the field).
  std::optional<Rejection> BuildItem(const Row& row, store::Item* item) const;
  std::optional<Rejection> BuildEvent(const Row& row, store::Event* event) const;
  std::optional<Rejection> BuildUser(const Row& row, store::User* user) const;

  // Column index of each event field in a CSV header (-1 = absent), resolved once
  // per file so the per-row path does no name lookups.
  struct EventColumns {
    int user_id = -1, session_id = -1, item_id = -1, type = -1, query = -1, value = -1,
        quantity = -1, price = -1, timestamp = -1, context = -1;
  };
  EventColumns ResolveEventColumns(const std::vector<std::string>& header) const;

 private:
  std::optional<std::string> Get(const Row& row, std::string_view target, const std::vector<std::string>& cols) const;
  std::string LeftoverAttributes(const Row& row, const std::vector<std::string>& cols,
                                 const std::string& base_json) const;
  RowKind kind_;
  std::map<std::string, std::string> mapping_;
};

}  // namespace souk::ingest
