// libFuzzer target: the HTTP API's request layer (server/api.h) and PII
// scrubbing (server/privacy.h) on arbitrary bytes. Whatever the input, parsing
// returns a value or an InvalidArgument that maps to a 4xx error naming a
// field -- never a crash, a hang or a 5xx.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "server/api.h"
#include "server/privacy.h"

namespace {

void Check4xx(const souk::Status& s) {
  if (s.ok()) return;
  const souk::server::ApiError e = souk::server::ErrorFromStatus(s);
  if (e.http < 400 || e.http >= 500 || e.message.empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace souk::server;
  const std::string body(reinterpret_cast<const char*>(data), size);
  RequestLimits limits;
  limits.max_items = 50;
  limits.max_events = 50;
  auto j = ParseJsonBody(body, limits);
  Check4xx(j.status());
  if (j.ok()) {
    Check4xx(ParseItems(*j, limits, 1).status());
    Check4xx(ParseEvents(*j, limits, 1).status());
    Check4xx(ParseSearchBody(*j, limits).status());
    nlohmann::json copy = *j;
    size_t redacted = 0;
    Check4xx(ScrubPii(copy, PiiPolicy::kReject, "body", &redacted));
    Check4xx(ScrubPii(copy, PiiPolicy::kRedact, "body", &redacted));
  }
  // The same bytes as a query string: name=value pairs split on '&'.
  QueryParams params;
  size_t start = 0;
  while (start <= body.size()) {
    size_t end = body.find('&', start);
    if (end == std::string::npos) end = body.size();
    const std::string pair = body.substr(start, end - start);
    const size_t eq = pair.find('=');
    params.emplace(pair.substr(0, eq), eq == std::string::npos ? "" : pair.substr(eq + 1));
    start = end + 1;
    if (params.size() > 64) break;
  }
  Check4xx(ParseSearchParams(params, limits).status());
  Check4xx(IntParam(params, "limit", 1, 1, 100).status());
  Check4xx(BoolParam(params, "explain", false).status());
  (void)FindPii(body);
  (void)RedactPii(body);
  return 0;
}
