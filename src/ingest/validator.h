// Validator: checks one record (item, user, event, judgment) against the rules
// of the store and the configured ranges. A failed check names a stable reason
// code and explains what is wrong with which field and value; the importer
// quarantines the record with that reason. Nothing is dropped silently.
//
// Reason codes (stable, used in summaries and --fail-on gates):
//   missing_field, field_too_long, invalid_id, negative_price, price_out_of_range,
//   invalid_quantity, invalid_rating, unknown_event_type, bad_timestamp,
//   future_timestamp, ancient_timestamp, missing_item, missing_query, invalid_json,
//   invalid_currency
//
// Thread-safety: const methods, safe to share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/config.h"
#include "store/types.h"

namespace souk::ingest {

enum class UnknownItemPolicy {
  kStub,        // create a placeholder item so the event is kept
  kQuarantine,  // quarantine the event with reason unknown_item
};

struct ValidationOptions {
  int64_t min_timestamp_ms = 788918400000;  // 1995-01-01: older events are "ancient"
  int64_t max_future_ms = 86400000;         // events this far past `now` are "future"
  double max_price = 1e7;                   // larger prices are out of range
  double max_quantity = 1e5;                // |quantity| above this is invalid
  double max_rating = 10;                   // rating values must lie in [0, max_rating]
  size_t max_field_bytes = 1 << 20;         // any text field longer than this is rejected
  size_t max_id_bytes = 512;                // ids longer than this are rejected
  UnknownItemPolicy unknown_item = UnknownItemPolicy::kStub;
  const Clock* clock = nullptr;             // for the future check; nullptr = real clock

  // Reads import.* keys from a Config. Errors name the bad key.
  static StatusOr<ValidationOptions> FromConfig(const Config& config);
};

struct Rejection {
  std::string reason;  // stable code
  std::string detail;  // readable: which field, which value, what was expected
};

class Validator {
 public:
  explicit Validator(ValidationOptions options) : o_(options) {}
  const ValidationOptions& options() const { return o_; }

  std::optional<Rejection> CheckItem(const store::Item& item) const;
  std::optional<Rejection> CheckUser(const store::User& user) const;
  std::optional<Rejection> CheckEvent(const store::Event& event) const;
  std::optional<Rejection> CheckJudgment(const store::Judgment& j) const;

 private:
  std::optional<Rejection> CheckText(std::string_view field, std::string_view value) const;
  std::optional<Rejection> CheckId(std::string_view field, std::string_view value, bool required) const;
  ValidationOptions o_;
};

}  // namespace souk::ingest
