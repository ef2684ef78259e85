#include "ingest/validator.h"

#include <cmath>
#include <fmt/format.h>

#include "common/utf8.h"

namespace souk::ingest {

StatusOr<ValidationOptions> ValidationOptions::FromConfig(const Config& c) {
  ValidationOptions o;
  const std::string& min_ts = c.GetString("import.min_timestamp");
  auto ms = store::ParseTimestampMs(min_ts);
  if (!ms) return InvalidArgumentError("import.min_timestamp: cannot parse '" + min_ts + "' as a date");
  o.min_timestamp_ms = *ms;
  o.max_future_ms = c.GetInt("import.max_future_s") * 1000;
  o.max_price = c.GetDouble("import.max_price");
  o.max_quantity = c.GetDouble("import.max_quantity");
  o.max_field_bytes = static_cast<size_t>(c.GetInt("import.max_field_bytes"));
  const std::string& policy = c.GetString("import.unknown_item");
  if (policy == "stub") o.unknown_item = UnknownItemPolicy::kStub;
  else if (policy == "quarantine") o.unknown_item = UnknownItemPolicy::kQuarantine;
  else return InvalidArgumentError("import.unknown_item must be 'stub' or 'quarantine', got '" + policy + "'");
  return o;
}

namespace {
std::string Shorten(std::string_view s, size_t n = 60) {
  if (s.size() <= n) return std::string(s);
  return std::string(Utf8Prefix(s, n)) + "...";
}
}  // namespace

std::optional<Rejection> Validator::CheckText(std::string_view field, std::string_view value) const {
  if (value.size() > o_.max_field_bytes) {
    return Rejection{"field_too_long", fmt::format("field '{}' has {} bytes, more than the limit of {}",
                                                   field, value.size(), o_.max_field_bytes)};
  }
  return std::nullopt;
}

std::optional<Rejection> Validator::CheckId(std::string_view field, std::string_view value, bool required) const {
  if (value.empty()) {
    if (required) return Rejection{"missing_field", fmt::format("required field '{}' is empty", field)};
    return std::nullopt;
  }
  if (value.size() > o_.max_id_bytes) {
    return Rejection{"invalid_id", fmt::format("field '{}' is an id of {} bytes, more than {}", field,
                                               value.size(), o_.max_id_bytes)};
  }
  for (unsigned char c : value) {
    if (c < 0x20) return Rejection{"invalid_id", fmt::format("field '{}' contains a control character", field)};
  }
  return std::nullopt;
}

std::optional<Rejection> Validator::CheckItem(const store::Item& it) const {
  if (auto r = CheckId("item_id", it.external_id, true)) return r;
  for (auto [name, v] : {std::pair<std::string_view, const std::string*>{"title", &it.title},
                         {"description", &it.description}, {"brand", &it.brand},
                         {"category", &it.category}, {"attributes", &it.attributes_json},
                         {"images", &it.images_json}}) {
    if (auto r = CheckText(name, *v)) return r;
  }
  if (it.price) {
    if (!std::isfinite(*it.price)) return Rejection{"invalid_number", "field 'price' is not a finite number"};
    if (*it.price < 0) return Rejection{"negative_price", fmt::format("field 'price' is {} (must be >= 0)", *it.price)};
    if (*it.price > o_.max_price) {
      return Rejection{"price_out_of_range", fmt::format("field 'price' is {} (above import.max_price = {})", *it.price, o_.max_price)};
    }
  }
  if (!it.currency.empty()) {
    bool ok = it.currency.size() == 3;
    for (char c : it.currency) ok &= (c >= 'A' && c <= 'Z');
    if (!ok) return Rejection{"invalid_currency", fmt::format("field 'currency' is '{}' (expected a 3-letter ISO 4217 code such as USD)", Shorten(it.currency))};
  }
  return std::nullopt;
}

std::optional<Rejection> Validator::CheckUser(const store::User& u) const {
  if (auto r = CheckId("user_id", u.external_id, true)) return r;
  return CheckText("attributes", u.attributes_json);
}

std::optional<Rejection> Validator::CheckEvent(const store::Event& e) const {
  using store::EventType;
  if (auto r = CheckId("user_id", e.user_id, false)) return r;
  if (auto r = CheckId("session_id", e.session_id, false)) return r;
  if (auto r = CheckId("item_id", e.item_id, false)) return r;
  if (auto r = CheckText("query", e.query)) return r;
  if (auto r = CheckText("context", e.context_json)) return r;
  if (e.type != EventType::kSearch && e.item_id.empty()) {
    return Rejection{"missing_item", fmt::format("a {} event needs an item id", store::EventTypeName(e.type))};
  }
  if (e.type == EventType::kSearch && e.query.empty()) {
    return Rejection{"missing_query", "a search event needs the query text"};
  }
  if (e.timestamp_ms < o_.min_timestamp_ms) {
    return Rejection{"ancient_timestamp", fmt::format("timestamp {} is before {} (import.min_timestamp)",
                                                      store::FormatTimestampMs(e.timestamp_ms),
                                                      store::FormatTimestampMs(o_.min_timestamp_ms))};
  }
  const Clock& clock = o_.clock ? *o_.clock : RealClock();
  const int64_t now = clock.NowMillis();
  if (e.timestamp_ms > now + o_.max_future_ms) {
    return Rejection{"future_timestamp", fmt::format("timestamp {} is in the future (now {})",
                                                     store::FormatTimestampMs(e.timestamp_ms),
                                                     store::FormatTimestampMs(now))};
  }
  if (e.price) {
    if (!std::isfinite(*e.price)) return Rejection{"invalid_number", "field 'price' is not a finite number"};
    if (*e.price < 0) return Rejection{"negative_price", fmt::format("field 'price' is {} (must be >= 0)", *e.price)};
    if (*e.price > o_.max_price) {
      return Rejection{"price_out_of_range", fmt::format("field 'price' is {} (above import.max_price = {})", *e.price, o_.max_price)};
    }
  }
  if (e.quantity) {
    const double q = *e.quantity;
    if (!std::isfinite(q) || std::fabs(q) > o_.max_quantity) {
      return Rejection{"invalid_quantity", fmt::format("field 'quantity' is {} (|quantity| must be <= {})", q, o_.max_quantity)};
    }
    if ((e.type == EventType::kPurchase || e.type == EventType::kAddToCart || e.type == EventType::kReturn) && q <= 0) {
      return Rejection{"invalid_quantity", fmt::format("a {} event has quantity {} (must be > 0)", store::EventTypeName(e.type), q)};
    }
  }
  if (e.type == EventType::kRating) {
    if (!e.value) return Rejection{"invalid_rating", "a rating event needs a value"};
    if (!std::isfinite(*e.value) || *e.value < 0 || *e.value > o_.max_rating) {
      return Rejection{"invalid_rating", fmt::format("rating value {} is outside [0, {}]", *e.value, o_.max_rating)};
    }
  }
  return std::nullopt;
}

std::optional<Rejection> Validator::CheckJudgment(const store::Judgment& j) const {
  if (j.query.empty()) return Rejection{"missing_field", "a judgment needs a query"};
  if (auto r = CheckId("item_id", j.item_id, true)) return r;
  if (!std::isfinite(j.relevance)) return Rejection{"invalid_number", "relevance is not a finite number"};
  return CheckText("query", j.query);
}

}  // namespace souk::ingest
