// The request and error layer of the HTTP API: parsing and validating JSON
// bodies and query strings into the engine's types, and turning a Status into
// the API's error body. Pure functions (no I/O), so they are unit-tested and
// fuzzed directly (fuzz/api_request_fuzz.cc): whatever the bytes, the result is
// a value or an InvalidArgument naming the field, never a crash.
//
// Error body (every 4xx/5xx):
//   {"error": {"code": "invalid_argument", "message": "...", "field": "items[2].price",
//              "request_id": "..."}}
// Field paths use JSON notation: "events[3].context.note", or the query
// parameter's name ("limit").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "store/types.h"

namespace souk::server {

struct ApiError {
  int http = 400;
  std::string code;      // invalid_argument, not_found, conflict, not_available, unauthorized, ...
  std::string message;
  std::string field;     // "" when the error is not about one field
};

// The API error of a Status: InvalidArgument -> 400 invalid_argument,
// NotFound -> 404 not_found, AlreadyExists -> 409 conflict,
// FailedPrecondition -> 503 not_available (a capability whose data or model is
// missing: the message says what to run), Unavailable -> 503 unavailable,
// ResourceExhausted -> 429, anything else -> 500 internal. The field is taken
// from a message of the form "<path>: <text>" when <path> has no spaces.
ApiError ErrorFromStatus(const Status& status);
nlohmann::json ErrorBody(const ApiError& error, const std::string& request_id);

// Limits on one request's content.
struct RequestLimits {
  size_t max_items = 1000;       // items per upsert batch
  size_t max_events = 10000;     // events per ingest batch
  size_t max_depth = 32;         // JSON nesting
  int max_limit = 1000;          // search limit / recommendation n
};

// Parses a JSON body. Errors (InvalidArgument): empty body, invalid UTF-8
// (with the byte offset), malformed JSON (with the byte offset), nesting deeper
// than max_depth, a top-level value that is not an object.
StatusOr<nlohmann::json> ParseJsonBody(std::string_view body, const RequestLimits& limits);

// {"items": [{"id", "title", "description", "brand", "category" (string "a > b"
// or array of levels), "price" (number >= 0), "currency", "attributes" (object),
// "images" (array of URLs), "in_stock" (bool), "language", "created_at",
// "updated_at" (ms or ISO 8601)}]}. Unknown fields are errors naming them.
// `now_ms` fills updated_at when absent.
StatusOr<std::vector<store::Item>> ParseItems(const nlohmann::json& body, const RequestLimits& limits,
                                              int64_t now_ms);

// One event as the API receives it.
struct ApiEvent {
  store::Event event;
  std::string event_id;        // client's idempotency id ("" = none)
};
// {"events": [{"type", "user", "session", "item", "query", "value", "quantity",
// "price", "timestamp" (ms or ISO 8601; default now), "context" (object),
// "event_id"}]}. Type names of store::ParseEventType. Unknown fields are errors.
StatusOr<std::vector<ApiEvent>> ParseEvents(const nlohmann::json& body, const RequestLimits& limits,
                                            int64_t now_ms);

// The idempotency key stored with an event (store::Event::import_key, never 0):
// from its event_id when given, else from the request's Idempotency-Key header
// and the event's position in the batch; 0 when neither is given.
int64_t EventImportKey(std::string_view event_id, std::string_view batch_key, size_t index);

// A query string's parameters (repeated names keep every value in order).
using QueryParams = std::multimap<std::string, std::string>;

// Typed query-parameter access; errors name the parameter.
std::optional<std::string> Param(const QueryParams& params, const std::string& name);
std::vector<std::string> Params(const QueryParams& params, const std::string& name);
StatusOr<int64_t> IntParam(const QueryParams& params, const std::string& name, int64_t def,
                           int64_t min, int64_t max);
StatusOr<bool> BoolParam(const QueryParams& params, const std::string& name, bool def);
// InvalidArgument naming the first parameter not in `known`.
Status CheckKnownParams(const QueryParams& params, const std::vector<std::string>& known);

// A search as the API describes it (GET query string or POST body).
struct ApiSearch {
  std::string query;
  std::vector<std::string> filters;   // search/request.h expressions
  std::vector<std::string> facets;
  std::string sort = "relevance";
  int64_t limit = 20, offset = 0;
  std::string user;
  bool explain = false;
  std::string pipeline = "full";      // search::ParsePipeline names
};
StatusOr<ApiSearch> ParseSearchParams(const QueryParams& params, const RequestLimits& limits);
StatusOr<ApiSearch> ParseSearchBody(const nlohmann::json& body, const RequestLimits& limits);

}  // namespace souk::server
