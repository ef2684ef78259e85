// The shop's data model as the store keeps it: items (the catalog), users,
// behavior events, quarantined records and relevance judgments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/time.h"

namespace souk::store {

// Kinds of shopper behavior. The numeric values are stored on disk: never renumber.
enum class EventType : uint8_t {
  kImpression = 0,    // the item was shown (list, search results, a recommendation slot)
  kView = 1,          // the product page was opened
  kClick = 2,         // a click on the item in a list or search results
  kAddToCart = 3,
  kRemoveFromCart = 4,
  kPurchase = 5,      // quantity and price of the line
  kRating = 6,        // value = rating
  kSearch = 7,        // query = the text typed; item empty
  kReturn = 8,        // a cancelled or returned purchase (quantity > 0 = units returned)
};
inline constexpr int kNumEventTypes = 9;

// "impression", "view", "click", "add_to_cart", "remove_from_cart", "purchase",
// "rating", "search", "return".
std::string_view EventTypeName(EventType t);
// Accepts the names above (and a few common aliases: "cart" -> add_to_cart,
// "addtocart", "transaction" -> purchase, "remove_from_cart"/"remove"). nullopt if unknown.
std::optional<EventType> ParseEventType(std::string_view s);

struct Item {
  std::string external_id;           // the shop's id (SKU); unique
  std::string title;
  std::string description;
  std::string brand;
  std::string category;              // category path joined with " > "
  std::optional<double> price;       // >= 0
  std::string currency;              // ISO 4217 ("USD", "CNY"); empty if unknown
  std::string attributes_json = "{}";// JSON object
  std::string images_json = "[]";    // JSON array of URLs
  std::optional<bool> in_stock;
  std::string language;              // "en", "zh", ... (empty if unknown)
  int64_t created_at_ms = 0;         // 0 = unknown
  int64_t updated_at_ms = 0;
  bool is_stub = false;              // created from an event that named an unknown item

  // A stable hash of the content (everything but timestamps), for change detection.
  uint64_t ContentHash() const;
};

struct User {
  std::string external_id;
  std::string attributes_json = "{}";
  int64_t created_at_ms = 0;
};

struct Event {
  std::string user_id;               // external; empty = anonymous
  std::string session_id;            // empty = unknown (sessions are then cut by inactivity)
  std::string item_id;               // external; empty for search events
  EventType type = EventType::kView;
  std::string query;                 // search text
  std::optional<double> value;       // rating value, or another numeric payload
  std::optional<double> quantity;    // units (cart, purchase, return)
  std::optional<double> price;       // unit price at the time of the event
  int64_t timestamp_ms = 0;          // UTC milliseconds since the epoch
  std::string context_json;          // JSON object or empty
  int64_t import_key = 0;            // de-duplication key (source, record); 0 = none

  // Hash of every field but import_key: two events with the same hash are exact duplicates.
  uint64_t ContentHash() const;
};

// A record that failed validation, kept with where it came from and why.
struct QuarantineRecord {
  std::string source;     // file path or API source
  int64_t line = 0;       // 1-based line (0 = not applicable)
  int64_t byte_offset = -1;
  std::string reason;     // a stable reason code ("negative_price", "unknown_item", ...)
  std::string detail;     // a readable explanation naming the field and value
  std::string raw;        // the raw record (possibly truncated)
};

// A graded (query, item) relevance label, e.g. Home Depot judgments.
struct Judgment {
  std::string query;
  std::string item_id;    // external
  double relevance = 0;
  std::string source;     // which judgments file
};

// Timestamp parsing and formatting live in common/time.h.
using ::souk::FormatTimestampMs;
using ::souk::ParseTimestampMs;

}  // namespace souk::store
