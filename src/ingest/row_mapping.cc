#include "ingest/row_mapping.h"

#include <algorithm>
#include <tuple>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <simdjson.h>

#include "ingest/parse.h"

namespace souk::ingest {
namespace {

const std::map<std::string, std::vector<std::string>>& Aliases(RowKind kind) {
  static const std::map<std::string, std::vector<std::string>> items = {
      {"id", {"id", "item_id", "product_id", "sku", "pid"}},
      {"title", {"title", "name", "product_name"}},
      {"description", {"description", "desc"}},
      {"brand", {"brand"}},
      {"category", {"category", "category_path", "categories"}},
      {"price", {"price"}},
      {"currency", {"currency"}},
      {"attributes", {"attributes", "attrs"}},
      {"images", {"images", "image", "image_url", "image_urls"}},
      {"in_stock", {"in_stock", "available"}},
      {"language", {"language", "lang"}},
      {"created_at", {"created_at"}},
      {"updated_at", {"updated_at"}},
  };
  static const std::map<std::string, std::vector<std::string>> events = {
      {"user_id", {"user_id", "user", "customer_id", "visitor_id"}},
      {"session_id", {"session_id", "session", "user_session"}},
      {"item_id", {"item_id", "product_id", "sku", "item"}},
      {"type", {"type", "event_type", "event"}},
      {"query", {"query", "search_query"}},
      {"value", {"value", "rating"}},
      {"quantity", {"quantity", "qty"}},
      {"price", {"price"}},
      {"timestamp", {"timestamp", "event_time", "time", "ts"}},
      {"context", {"context"}},
  };
  static const std::map<std::string, std::vector<std::string>> users = {
      {"id", {"id", "user_id", "customer_id"}},
      {"attributes", {"attributes"}},
      {"created_at", {"created_at"}},
  };
  switch (kind) {
    case RowKind::kItems: return items;
    case RowKind::kEvents: return events;
    case RowKind::kUsers: return users;
  }
  return items;
}

std::string JoinCategory(const std::string& json_array) {
  auto j = nlohmann::json::parse(json_array, nullptr, false);
  if (!j.is_array()) return json_array;
  std::string out;
  for (const auto& e : j) {
    if (!e.is_string()) continue;
    out += (out.empty() ? "" : " > ") + e.get<std::string>();
  }
  return out;
}

std::optional<bool> ParseBool(std::string_view s) {
  s = Trim(s);
  std::string l(s);
  std::transform(l.begin(), l.end(), l.begin(), ::tolower);
  if (l == "true" || l == "1" || l == "yes" || l == "y" || l == "in_stock") return true;
  if (l == "false" || l == "0" || l == "no" || l == "n" || l == "out_of_stock") return false;
  return std::nullopt;
}

// The row's own attributes object (or "{}"), which leftover columns are added to.
std::optional<Rejection> BaseAttributes(const Row& row, const std::string& column, std::string* out) {
  *out = "{}";
  auto a = row.Text(column);
  if (!a) return std::nullopt;
  if (!row.IsObject(column)) {
    auto j = nlohmann::json::parse(*a, nullptr, false);
    if (!j.is_object()) return Rejection{"invalid_json", "field 'attributes' is not a JSON object"};
  }
  *out = *a;
  return std::nullopt;
}

}  // namespace

const std::vector<std::string>& RowMapping::Targets(RowKind kind) {
  static std::map<int, std::vector<std::string>> cache = [] {
    std::map<int, std::vector<std::string>> m;
    for (RowKind k : {RowKind::kItems, RowKind::kEvents, RowKind::kUsers}) {
      for (const auto& [t, a] : Aliases(k)) m[static_cast<int>(k)].push_back(t);
    }
    return m;
  }();
  return cache[static_cast<int>(kind)];
}

RowMapping::RowMapping(RowKind kind, std::map<std::string, std::string> m)
    : kind_(kind), mapping_(std::move(m)) {}

Status RowMapping::Check() const {
  const auto& aliases = Aliases(kind_);
  for (const auto& [target, src] : mapping_) {
    if (target.rfind("attr.", 0) == 0 && kind_ != RowKind::kEvents) continue;
    if (!aliases.count(target)) {
      std::string known;
      for (const auto& [t, a] : aliases) known += (known.empty() ? "" : ", ") + t;
      return InvalidArgumentError(fmt::format("unknown target field '{}' in --map (known: {}{})", target, known,
                                              kind_ != RowKind::kEvents ? ", attr.<name>" : ""));
    }
  }
  return OkStatus();
}

std::string RowMapping::Source(std::string_view target, const std::vector<std::string>& cols) const {
  if (auto it = mapping_.find(std::string(target)); it != mapping_.end()) return it->second;
  const auto& aliases = Aliases(kind_);
  auto a = aliases.find(std::string(target));
  if (a == aliases.end()) return std::string(target);
  for (const auto& name : a->second) {
    if (std::find(cols.begin(), cols.end(), name) != cols.end()) return name;
  }
  return std::string(target);
}

std::optional<std::string> RowMapping::Get(const Row& row, std::string_view target,
                                           const std::vector<std::string>& cols) const {
  return row.Text(Source(target, cols));
}

std::string RowMapping::LeftoverAttributes(const Row& row, const std::vector<std::string>& cols,
                                           const std::string& base_json) const {
  nlohmann::json attrs = nlohmann::json::parse(base_json.empty() ? "{}" : base_json, nullptr, false);
  if (!attrs.is_object()) attrs = nlohmann::json::object();
  std::vector<std::string> used;
  for (const auto& t : Targets(kind_)) used.push_back(Source(t, cols));
  for (const auto& [target, src] : mapping_) {
    if (target.rfind("attr.", 0) == 0) {
      if (auto v = row.Text(src)) attrs[target.substr(5)] = *v;
      used.push_back(src);
    }
  }
  for (const auto& c : cols) {
    if (std::find(used.begin(), used.end(), c) != used.end()) continue;
    if (auto v = row.Text(c)) {
      if (row.IsObject(c) || row.IsArray(c)) attrs[c] = nlohmann::json::parse(*v, nullptr, false);
      else attrs[c] = *v;
    }
  }
  return attrs.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<Rejection> RowMapping::BuildItem(const Row& row, store::Item* it) const {
  const auto cols = row.Columns();
  auto id = Get(row, "id", cols);
  if (!id) return Rejection{"missing_field", fmt::format("item id column '{}' is empty or absent", Source("id", cols))};
  it->external_id = NormalizeNumericId(*id);
  it->title = Get(row, "title", cols).value_or("");
  it->description = Get(row, "description", cols).value_or("");
  it->brand = Get(row, "brand", cols).value_or("");
  const std::string cat_col = Source("category", cols);
  if (auto c = row.Text(cat_col)) it->category = row.IsArray(cat_col) ? JoinCategory(*c) : *c;
  if (auto p = Get(row, "price", cols)) {
    auto v = ParseNumber(*p);
    if (!v) return Rejection{"invalid_number", fmt::format("field 'price' = '{}' is not a number", p->substr(0, 40))};
    it->price = *v;
  }
  it->currency = Get(row, "currency", cols).value_or("");
  const std::string img_col = Source("images", cols);
  if (auto im = row.Text(img_col)) {
    it->images_json = row.IsArray(img_col) ? *im : nlohmann::json::array({*im}).dump();
  }
  if (auto s = Get(row, "in_stock", cols)) {
    auto b = ParseBool(*s);
    if (!b) return Rejection{"invalid_value", fmt::format("field 'in_stock' = '{}' is not a boolean", s->substr(0, 40))};
    it->in_stock = *b;
  }
  it->language = Get(row, "language", cols).value_or("");
  for (auto [field, dst] : {std::pair<const char*, int64_t*>{"created_at", &it->created_at_ms}, {"updated_at", &it->updated_at_ms}}) {
    if (auto t = Get(row, field, cols)) {
      auto ms = store::ParseTimestampMs(*t);
      if (!ms) return Rejection{"bad_timestamp", fmt::format("field '{}' = '{}' is not a timestamp", field, t->substr(0, 40))};
      *dst = *ms;
    }
  }
  std::string base;
  if (auto r = BaseAttributes(row, Source("attributes", cols), &base)) return r;
  it->attributes_json = LeftoverAttributes(row, cols, base);
  return std::nullopt;
}

std::optional<Rejection> BuildEventFromFields(const EventFields& f, store::Event* e,
                                              simdjson::dom::parser* json) {
  if (f.type.empty()) return Rejection{"missing_field", "the event type is empty"};
  auto t = store::ParseEventType(f.type);
  if (!t) {
    return Rejection{"unknown_event_type", fmt::format("event type '{}' is not one of impression, view, click, add_to_cart, remove_from_cart, purchase, rating, search, return", f.type.substr(0, 40))};
  }
  e->type = *t;
  if (f.timestamp.empty()) return Rejection{"missing_field", "the timestamp is empty"};
  auto ms = store::ParseTimestampMs(f.timestamp);
  if (!ms) return Rejection{"bad_timestamp", fmt::format("field 'timestamp' = '{}' is not a timestamp", f.timestamp.substr(0, 40))};
  e->timestamp_ms = *ms;
  e->user_id = NormalizeNumericId(f.user_id);
  e->session_id.assign(f.session_id);
  e->item_id = NormalizeNumericId(f.item_id);
  e->query.assign(f.query);
  for (auto [field, text, dst] : {std::tuple<const char*, std::string_view, std::optional<double>*>{"value", f.value, &e->value},
                                  {"quantity", f.quantity, &e->quantity}, {"price", f.price, &e->price}}) {
    if (text.empty()) continue;
    auto d = ParseNumber(text);
    if (!d) return Rejection{"invalid_number", fmt::format("field '{}' = '{}' is not a number", field, text.substr(0, 40))};
    *dst = *d;
  }
  if (!f.context.empty()) {
    // Cheap shape check; the context is stored as given.
    std::string_view c = Trim(f.context);
    bool ok = c.size() >= 2 && c.front() == '{' && c.back() == '}';
    if (ok && json) {
      simdjson::dom::element el;
      ok = json->parse(c.data(), c.size(), /*realloc_if_needed=*/true).get(el) == simdjson::SUCCESS && el.is_object();
    } else if (ok) {
      ok = nlohmann::json::accept(c);
    }
    if (!ok) {
      return Rejection{"invalid_json", "field 'context' is not a JSON object"};
    }
    e->context_json.assign(f.context);
  }
  return std::nullopt;
}

RowMapping::EventColumns RowMapping::ResolveEventColumns(const std::vector<std::string>& header) const {
  auto idx = [&](std::string_view target) {
    const std::string src = Source(target, header);
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == src) return static_cast<int>(i);
    }
    return -1;
  };
  EventColumns c;
  c.user_id = idx("user_id");
  c.session_id = idx("session_id");
  c.item_id = idx("item_id");
  c.type = idx("type");
  c.query = idx("query");
  c.value = idx("value");
  c.quantity = idx("quantity");
  c.price = idx("price");
  c.timestamp = idx("timestamp");
  c.context = idx("context");
  return c;
}

std::optional<Rejection> RowMapping::BuildEvent(const Row& row, store::Event* e) const {
  const auto cols = row.Columns();
  std::string v[10];
  const char* targets[10] = {"user_id", "session_id", "item_id", "type", "query", "value", "quantity", "price", "timestamp", "context"};
  for (int i = 0; i < 10; ++i) v[i] = Get(row, targets[i], cols).value_or("");
  if (v[3].empty()) return Rejection{"missing_field", fmt::format("event type column '{}' is empty or absent", Source("type", cols))};
  if (v[8].empty()) return Rejection{"missing_field", fmt::format("timestamp column '{}' is empty or absent", Source("timestamp", cols))};
  EventFields f{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]};
  return BuildEventFromFields(f, e);
}

std::optional<Rejection> RowMapping::BuildUser(const Row& row, store::User* u) const {
  const auto cols = row.Columns();
  auto id = Get(row, "id", cols);
  if (!id) return Rejection{"missing_field", fmt::format("user id column '{}' is empty or absent", Source("id", cols))};
  u->external_id = NormalizeNumericId(*id);
  if (auto t = Get(row, "created_at", cols)) {
    auto ms = store::ParseTimestampMs(*t);
    if (!ms) return Rejection{"bad_timestamp", fmt::format("field 'created_at' = '{}' is not a timestamp", t->substr(0, 40))};
    u->created_at_ms = *ms;
  }
  std::string base;
  if (auto r = BaseAttributes(row, Source("attributes", cols), &base)) return r;
  u->attributes_json = LeftoverAttributes(row, cols, base);
  return std::nullopt;
}

}  // namespace souk::ingest
