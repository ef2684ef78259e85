#include "server/api.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "common/hash.h"
#include "common/time.h"
#include "common/utf8.h"

namespace souk::server {
namespace {

using nlohmann::json;

Status FieldError(const std::string& field, const std::string& text) {
  return InvalidArgumentError(fmt::format("{}: {}", field, text));
}

std::string TypeName(const json& v) { return v.type_name(); }

std::string Shorten(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

Status CheckFields(const json& obj, const std::string& path, const std::set<std::string>& known) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (!known.count(it.key())) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      return FieldError(path + "." + it.key(), fmt::format("unknown field (known: {})", list));
    }
  }
  return OkStatus();
}

StatusOr<std::string> GetString(const json& obj, const std::string& path, const char* key,
                                bool required, bool is_id = false) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) return FieldError(path + "." + key, "is required");
    return std::string();
  }
  if (!it->is_string()) {
    // Numeric ids are common in shop exports; accept integers as ids.
    if (is_id && it->is_number_integer()) return it->dump();
    return FieldError(path + "." + key, fmt::format("must be a string, got {} {}", TypeName(*it), Shorten(*it)));
  }
  std::string s = it->get<std::string>();
  if (required && s.empty()) return FieldError(path + "." + key, "must not be empty");
  return s;
}

StatusOr<std::optional<double>> GetNumber(const json& obj, const std::string& path, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<double>();
  if (!it->is_number()) {
    return FieldError(path + "." + key, fmt::format("must be a number, got {} {}", TypeName(*it), Shorten(*it)));
  }
  const double v = it->get<double>();
  if (!std::isfinite(v)) return FieldError(path + "." + key, "must be finite");
  return std::optional<double>(v);
}

StatusOr<int64_t> GetTimestamp(const json& obj, const std::string& path, const char* key, int64_t def) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return def;
  if (it->is_number_integer() || it->is_number_unsigned()) {
    const int64_t v = it->get<int64_t>();
    if (v <= 0) return FieldError(path + "." + key, fmt::format("must be positive milliseconds since 1970, got {}", v));
    return v;
  }
  if (it->is_string()) {
    auto ms = ParseTimestampMs(it->get<std::string>());
    if (!ms) {
      return FieldError(path + "." + key,
                        fmt::format("cannot parse time {} (use milliseconds since 1970 or ISO 8601)", Shorten(*it)));
    }
    return *ms;
  }
  return FieldError(path + "." + key, fmt::format("must be a number or a string, got {}", TypeName(*it)));
}

StatusOr<const json*> GetArray(const json& body, const char* key, size_t max, const char* what) {
  auto it = body.find(key);
  if (it == body.end()) return FieldError(key, "is required");
  if (!it->is_array()) return FieldError(key, fmt::format("must be an array, got {}", TypeName(*it)));
  if (it->empty()) return FieldError(key, fmt::format("must contain at least one {}", what));
  if (it->size() > max) {
    return FieldError(key, fmt::format("has {} {}s, at most {} per request", it->size(), what, max));
  }
  return &*it;
}

size_t Depth(const json& j, size_t limit) {
  if (!j.is_structured()) return 1;
  size_t d = 0;
  for (const auto& v : j) {
    d = std::max(d, Depth(v, limit));
    if (d > limit) break;
  }
  return d + 1;
}

}  // namespace

ApiError ErrorFromStatus(const Status& status) {
  ApiError e;
  e.message = status.message();
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange: e.http = 400; e.code = "invalid_argument"; break;
    case StatusCode::kNotFound: e.http = 404; e.code = "not_found"; break;
    case StatusCode::kAlreadyExists: e.http = 409; e.code = "conflict"; break;
    case StatusCode::kFailedPrecondition: e.http = 503; e.code = "not_available"; break;
    case StatusCode::kUnavailable: e.http = 503; e.code = "unavailable"; break;
    case StatusCode::kResourceExhausted: e.http = 429; e.code = "resource_exhausted"; break;
    case StatusCode::kUnimplemented: e.http = 501; e.code = "not_implemented"; break;
    default: e.http = 500; e.code = "internal"; break;
  }
  const size_t colon = e.message.find(": ");
  if (colon != std::string::npos && colon > 0 && colon < 120) {
    const std::string head = e.message.substr(0, colon);
    if (head.find(' ') == std::string::npos && head.find('\'') == std::string::npos) e.field = head;
  }
  if (e.field.empty() && e.http < 500) {
    // "<json.path[2]> contains ..." messages name the field as their first word.
    const std::string head = e.message.substr(0, e.message.find(' '));
    const bool path_like = !head.empty() && head.size() < 120 &&
                           (head.find('.') != std::string::npos || head.find('[') != std::string::npos) &&
                           std::all_of(head.begin(), head.end(), [](char c) {
                             return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '[' ||
                                    c == ']';
                           });
    if (path_like) e.field = head;
  }
  return e;
}

json ErrorBody(const ApiError& error, const std::string& request_id) {
  json e = {{"code", error.code}, {"message", error.message}};
  if (!error.field.empty()) e["field"] = error.field;
  if (!request_id.empty()) e["request_id"] = request_id;
  return json{{"error", e}};
}

StatusOr<json> ParseJsonBody(std::string_view body, const RequestLimits& limits) {
  if (body.empty()) return InvalidArgumentError("body: is empty (expected a JSON object)");
  const size_t bad = ValidateUtf8(body);
  if (bad != std::string_view::npos) {
    return InvalidArgumentError(fmt::format("body: is not valid UTF-8 (first bad byte at offset {})", bad));
  }
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Locate the error for the message (the non-throwing parse does not say where).
    try {
      (void)json::parse(body);
    } catch (const json::parse_error& e) {
      return InvalidArgumentError(fmt::format("body: malformed JSON at byte {}: {}", e.byte,
                                              std::string(e.what()).substr(0, 200)));
    } catch (...) {
    }
    return InvalidArgumentError("body: malformed JSON");
  }
  if (!j.is_object()) return InvalidArgumentError(fmt::format("body: must be a JSON object, got {}", TypeName(j)));
  if (Depth(j, limits.max_depth) > limits.max_depth) {
    return InvalidArgumentError(fmt::format("body: nested deeper than {} levels", limits.max_depth));
  }
  return j;
}

StatusOr<std::vector<store::Item>> ParseItems(const json& body, const RequestLimits& limits, int64_t now_ms) {
  RETURN_IF_ERROR(CheckFields(body, "body", {"items"}));
  ASSIGN_OR_RETURN(const json* arr, GetArray(body, "items", limits.max_items, "item"));
  static const std::set<std::string> kKnown = {"id", "title", "description", "brand", "category",
                                               "price", "currency", "attributes", "images", "in_stock",
                                               "language", "created_at", "updated_at"};
  std::vector<store::Item> out;
  out.reserve(arr->size());
  std::set<std::string> seen;
  for (size_t i = 0; i < arr->size(); ++i) {
    const json& o = (*arr)[i];
    const std::string path = fmt::format("items[{}]", i);
    if (!o.is_object()) return FieldError(path, fmt::format("must be an object, got {}", TypeName(o)));
    RETURN_IF_ERROR(CheckFields(o, path, kKnown));
    store::Item it;
    ASSIGN_OR_RETURN(it.external_id, GetString(o, path, "id", true, true));
    if (!seen.insert(it.external_id).second) {
      return FieldError(path + ".id", fmt::format("'{}' appears twice in this batch", it.external_id));
    }
    ASSIGN_OR_RETURN(it.title, GetString(o, path, "title", false));
    ASSIGN_OR_RETURN(it.description, GetString(o, path, "description", false));
    ASSIGN_OR_RETURN(it.brand, GetString(o, path, "brand", false));
    ASSIGN_OR_RETURN(it.currency, GetString(o, path, "currency", false));
    ASSIGN_OR_RETURN(it.language, GetString(o, path, "language", false));
    if (auto c = o.find("category"); c != o.end() && !c->is_null()) {
      if (c->is_string()) {
        it.category = c->get<std::string>();
      } else if (c->is_array()) {
        for (size_t k = 0; k < c->size(); ++k) {
          if (!(*c)[k].is_string()) {
            return FieldError(fmt::format("{}.category[{}]", path, k), "must be a string");
          }
          it.category += (k ? " > " : "") + (*c)[k].get<std::string>();
        }
      } else {
        return FieldError(path + ".category", fmt::format("must be a string or an array of strings, got {}", TypeName(*c)));
      }
    }
    ASSIGN_OR_RETURN(it.price, GetNumber(o, path, "price"));
    if (it.price && *it.price < 0) return FieldError(path + ".price", fmt::format("must be >= 0, got {}", *it.price));
    if (auto a = o.find("attributes"); a != o.end() && !a->is_null()) {
      if (!a->is_object()) return FieldError(path + ".attributes", fmt::format("must be an object, got {}", TypeName(*a)));
      it.attributes_json = a->dump();
    }
    if (auto im = o.find("images"); im != o.end() && !im->is_null()) {
      if (!im->is_array()) return FieldError(path + ".images", "must be an array of URLs");
      for (size_t k = 0; k < im->size(); ++k) {
        if (!(*im)[k].is_string()) return FieldError(fmt::format("{}.images[{}]", path, k), "must be a string");
      }
      it.images_json = im->dump();
    }
    if (auto s = o.find("in_stock"); s != o.end() && !s->is_null()) {
      if (!s->is_boolean()) return FieldError(path + ".in_stock", fmt::format("must be true or false, got {}", Shorten(*s)));
      it.in_stock = s->get<bool>();
    }
    ASSIGN_OR_RETURN(it.created_at_ms, GetTimestamp(o, path, "created_at", 0));
    ASSIGN_OR_RETURN(it.updated_at_ms, GetTimestamp(o, path, "updated_at", now_ms));
    out.push_back(std::move(it));
  }
  return out;
}

StatusOr<std::vector<ApiEvent>> ParseEvents(const json& body, const RequestLimits& limits, int64_t now_ms) {
  RETURN_IF_ERROR(CheckFields(body, "body", {"events"}));
  ASSIGN_OR_RETURN(const json* arr, GetArray(body, "events", limits.max_events, "event"));
  static const std::set<std::string> kKnown = {"type", "user", "session", "item", "query", "value",
                                               "quantity", "price", "timestamp", "context", "event_id"};
  std::vector<ApiEvent> out;
  out.reserve(arr->size());
  for (size_t i = 0; i < arr->size(); ++i) {
    const json& o = (*arr)[i];
    const std::string path = fmt::format("events[{}]", i);
    if (!o.is_object()) return FieldError(path, fmt::format("must be an object, got {}", TypeName(o)));
    RETURN_IF_ERROR(CheckFields(o, path, kKnown));
    ApiEvent ae;
    store::Event& e = ae.event;
    ASSIGN_OR_RETURN(std::string type, GetString(o, path, "type", true));
    auto t = store::ParseEventType(type);
    if (!t) {
      return FieldError(path + ".type",
                        fmt::format("unknown event type '{}' (known: impression, view, click, add_to_cart, "
                                    "remove_from_cart, purchase, rating, search, return)", type));
    }
    e.type = *t;
    ASSIGN_OR_RETURN(e.user_id, GetString(o, path, "user", false, true));
    ASSIGN_OR_RETURN(e.session_id, GetString(o, path, "session", false, true));
    ASSIGN_OR_RETURN(e.item_id, GetString(o, path, "item", false, true));
    ASSIGN_OR_RETURN(e.query, GetString(o, path, "query", false));
    ASSIGN_OR_RETURN(ae.event_id, GetString(o, path, "event_id", false, true));
    ASSIGN_OR_RETURN(e.value, GetNumber(o, path, "value"));
    ASSIGN_OR_RETURN(e.quantity, GetNumber(o, path, "quantity"));
    ASSIGN_OR_RETURN(e.price, GetNumber(o, path, "price"));
    ASSIGN_OR_RETURN(e.timestamp_ms, GetTimestamp(o, path, "timestamp", now_ms));
    if (auto c = o.find("context"); c != o.end() && !c->is_null()) {
      if (!c->is_object()) return FieldError(path + ".context", fmt::format("must be an object, got {}", TypeName(*c)));
      e.context_json = c->dump();
    }
    if (e.user_id.empty() && e.session_id.empty()) {
      return FieldError(path, "needs a user or a session (events of nobody cannot be used)");
    }
    out.push_back(std::move(ae));
  }
  return out;
}

int64_t EventImportKey(std::string_view event_id, std::string_view batch_key, size_t index) {
  uint64_t h = 0;
  if (!event_id.empty()) {
    h = Fnv1a64(std::string("api-event\n") + std::string(event_id));
  } else if (!batch_key.empty()) {
    h = Fnv1a64(fmt::format("api-batch\n{}\n{}", batch_key, index));
  } else {
    return 0;
  }
  // Positive, never 0 (0 means "no key").
  int64_t k = static_cast<int64_t>(h & 0x7fffffffffffffffULL);
  return k == 0 ? 1 : k;
}

std::optional<std::string> Param(const QueryParams& params, const std::string& name) {
  auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Params(const QueryParams& params, const std::string& name) {
  std::vector<std::string> out;
  auto [b, e] = params.equal_range(name);
  for (auto it = b; it != e; ++it) out.push_back(it->second);
  return out;
}

StatusOr<int64_t> IntParam(const QueryParams& params, const std::string& name, int64_t def, int64_t min,
                           int64_t max) {
  auto v = Param(params, name);
  if (!v) return def;
  int64_t x = 0;
  const char* b = v->data();
  const char* e = b + v->size();
  auto r = std::from_chars(b, e, x);
  if (v->empty() || r.ec != std::errc() || r.ptr != e) {
    return FieldError(name, fmt::format("must be an integer, got '{}'", v->substr(0, 40)));
  }
  if (x < min || x > max) return FieldError(name, fmt::format("must be between {} and {}, got {}", min, max, x));
  return x;
}

StatusOr<bool> BoolParam(const QueryParams& params, const std::string& name, bool def) {
  auto v = Param(params, name);
  if (!v) return def;
  if (*v == "" || *v == "1" || *v == "true" || *v == "yes") return true;
  if (*v == "0" || *v == "false" || *v == "no") return false;
  return FieldError(name, fmt::format("must be true or false, got '{}'", v->substr(0, 40)));
}

Status CheckKnownParams(const QueryParams& params, const std::vector<std::string>& known) {
  for (const auto& [k, v] : params) {
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      std::string list;
      for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
      return FieldError(k, fmt::format("unknown parameter (known: {})", list));
    }
  }
  for (const auto& [k, v] : params) {
    if (!IsValidUtf8(v)) return FieldError(k, "is not valid UTF-8");
  }
  return OkStatus();
}

StatusOr<ApiSearch> ParseSearchParams(const QueryParams& params, const RequestLimits& limits) {
  RETURN_IF_ERROR(CheckKnownParams(params, {"q", "filter", "facet", "sort", "limit", "offset", "user", "explain", "pipeline"}));
  ApiSearch s;
  s.query = Param(params, "q").value_or("");
  s.pipeline = Param(params, "pipeline").value_or("full");
  s.filters = Params(params, "filter");
  s.facets = Params(params, "facet");
  s.sort = Param(params, "sort").value_or("relevance");
  s.user = Param(params, "user").value_or("");
  ASSIGN_OR_RETURN(s.limit, IntParam(params, "limit", 20, 1, limits.max_limit));
  ASSIGN_OR_RETURN(s.offset, IntParam(params, "offset", 0, 0, 100000));
  ASSIGN_OR_RETURN(s.explain, BoolParam(params, "explain", false));
  return s;
}

StatusOr<ApiSearch> ParseSearchBody(const json& body, const RequestLimits& limits) {
  RETURN_IF_ERROR(CheckFields(body, "body", {"query", "filters", "facets", "sort", "limit", "offset", "user", "explain", "pipeline"}));
  ApiSearch s;
  ASSIGN_OR_RETURN(s.query, GetString(body, "body", "query", false));
  ASSIGN_OR_RETURN(s.pipeline, GetString(body, "body", "pipeline", false));
  if (s.pipeline.empty()) s.pipeline = "full";
  ASSIGN_OR_RETURN(s.sort, GetString(body, "body", "sort", false));
  if (s.sort.empty()) s.sort = "relevance";
  ASSIGN_OR_RETURN(s.user, GetString(body, "body", "user", false, true));
  for (const char* key : {"filters", "facets"}) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) continue;
    if (!it->is_array()) return FieldError(key, "must be an array of strings");
    for (size_t k = 0; k < it->size(); ++k) {
      if (!(*it)[k].is_string()) return FieldError(fmt::format("{}[{}]", key, k), "must be a string");
      (std::string(key) == "filters" ? s.filters : s.facets).push_back((*it)[k].get<std::string>());
    }
  }
  for (auto [key, dst, min, max] : {std::tuple{"limit", &s.limit, int64_t{1}, int64_t{limits.max_limit}},
                                    std::tuple{"offset", &s.offset, int64_t{0}, int64_t{100000}}}) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) continue;
    if (!it->is_number_integer() && !it->is_number_unsigned()) return FieldError(key, "must be an integer");
    const int64_t v = it->get<int64_t>();
    if (v < min || v > max) return FieldError(key, fmt::format("must be between {} and {}, got {}", min, max, v));
    *dst = v;
  }
  if (auto it = body.find("explain"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return FieldError("explain", "must be true or false");
    s.explain = it->get<bool>();
  }
  return s;
}

}  // namespace souk::server
