// The HTTP API end to end. A generated store is imported, indexed and trained
// with the `souk` binary; then the real server (Service + HttpServer) listens
// on a free loopback port and an HTTP client checks:
//  - OpenAPI conformance: every served route is documented with its scope and
//    every documented operation answers its example with the documented status
//    and a body of the documented shape (docs/openapi.json);
//  - the auth table: every route x {no key, bad key, search, ingest, admin};
//  - bad input: malformed JSON, wrong types, unknown fields, invalid UTF-8,
//    huge bodies, unknown routes and methods -> 4xx with the error body;
//  - idempotent ingestion (retried batches are stored once) and live session state;
//  - rate limits (429 + Retry-After), pseudonymized user ids, PII rejection;
//  - forgetting a user (store, sessions, training data, audit log, private logs);
//  - hot swap: reloads while a client searches -> no failed request.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/app_context.h"
#include "common/testing.h"
#include "server/console_assets.h"
#include "server/http_server.h"
#include "server/service.h"
#include "souk_cli.h"

namespace souk {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

testing::CliResult RunSouk(const std::string& args) { return testing::RunSoukBinary(SOUK_BINARY, args); }

// A small JSON-schema check for the subset docs/openapi.json uses: $ref, type
// (a name or a list, "null" included), required, properties,
// additionalProperties: false, items, enum, oneOf. Returns "" when `v` fits.
std::string Check(const json& doc, const json& schema, const json& v, const std::string& path) {
  if (schema.contains("$ref")) {
    std::string ref = schema["$ref"].get<std::string>();
    const std::string name = ref.substr(ref.rfind('/') + 1);
    return Check(doc, doc["components"]["schemas"][name], v, path);
  }
  if (schema.contains("oneOf")) {
    for (const auto& s : schema["oneOf"]) {
      if (Check(doc, s, v, path).empty()) return "";
    }
    return path + ": matches no oneOf alternative";
  }
  if (schema.contains("type")) {
    std::vector<std::string> types;
    if (schema["type"].is_array()) {
      for (const auto& t : schema["type"]) types.push_back(t.get<std::string>());
    } else {
      types.push_back(schema["type"].get<std::string>());
    }
    bool ok = false;
    for (const auto& t : types) {
      ok = ok || (t == "object" && v.is_object()) || (t == "array" && v.is_array()) ||
           (t == "string" && v.is_string()) || (t == "boolean" && v.is_boolean()) ||
           (t == "number" && v.is_number()) || (t == "integer" && (v.is_number_integer() || v.is_number_unsigned())) ||
           (t == "null" && v.is_null());
    }
    if (!ok) return fmt::format("{}: expected {}, got {} {}", path, schema["type"].dump(), v.type_name(), v.dump().substr(0, 80));
  }
  if (schema.contains("enum")) {
    bool found = false;
    for (const auto& e : schema["enum"]) found = found || e == v;
    if (!found) return fmt::format("{}: {} not in enum", path, v.dump());
  }
  if (v.is_object()) {
    if (schema.contains("required")) {
      for (const auto& r : schema["required"]) {
        if (!v.contains(r.get<std::string>())) return fmt::format("{}: missing required '{}'", path, r.get<std::string>());
      }
    }
    if (schema.contains("properties")) {
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (schema["properties"].contains(it.key())) {
          std::string e = Check(doc, schema["properties"][it.key()], it.value(), path + "." + it.key());
          if (!e.empty()) return e;
        } else if (schema.value("additionalProperties", true) == false) {
          return fmt::format("{}: undocumented field '{}'", path, it.key());
        }
      }
    }
  }
  if (v.is_array() && schema.contains("items")) {
    for (size_t i = 0; i < v.size(); ++i) {
      std::string e = Check(doc, schema["items"], v[i], fmt::format("{}[{}]", path, i));
      if (!e.empty()) return e;
    }
  }
  return "";
}

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new fs::path(testing::TempDir("server"));
    const fs::path gen = *root_ / "gen";
    data_ = *root_ / "data";
    auto run = [](const std::string& args) {
      auto r = RunSouk(args);
      ASSERT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    };
    run(fmt::format("generate --items 500 --users 1200 --days 50 --holdout-days 5 --seed 5 --out {} --data-dir {} --progress off",
                    gen.string(), data_.string()));
    run(fmt::format("import --format souk {} --data-dir {} --progress off", gen.string(), data_.string()));
    run(fmt::format("index --data-dir {} --progress off", data_.string()));
    run(fmt::format("train intent --data-dir {} --progress off", data_.string()));
    run(fmt::format("train recommender --data-dir {} --progress off", data_.string()));

    ctx_ = new app::AppContext();
    ctx_->data_dir = data_.string();
    ASSERT_TRUE(ctx_->Init().ok());
    auto so = server::ServiceOptionsFrom(ctx_->config);
    ASSERT_TRUE(so.ok()) << so.status().ToString();
    so->rate.requests_per_second = 100000;
    so->rate.burst = 100000;
    so->max_body_bytes = 1 << 20;
    so->pii = server::PiiPolicy::kReject;
    auto s = server::Service::Open(*ctx_, *so);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    service_ = s->release();
    server::HttpServerOptions ho;
    ho.port = 0;
    ho.threads = 4;
    ho.log_requests = false;
    http_ = new server::HttpServer(*service_, ho);
    ASSERT_TRUE(http_->Bind().ok());
    thread_ = new std::thread([] { (void)http_->Listen(); });
    for (auto [scope, name] : {std::pair{server::Scope::kAdmin, "admin"}, std::pair{server::Scope::kIngest, "ingest"},
                               std::pair{server::Scope::kSearch, "search"}}) {
      auto k = service_->keys().Create(scope, std::string("test ") + name);
      ASSERT_TRUE(k.ok());
      (*keys_)[name] = *k;
    }
    std::ifstream in(fs::path(SOUK_SOURCE_DIR) / "docs" / "openapi.json");
    *doc_ = json::parse(in, nullptr, false);
    ASSERT_FALSE(doc_->is_discarded());
  }
  static void TearDownTestSuite() {
    if (http_) http_->Stop();
    if (thread_) thread_->join();
    delete thread_;
    delete http_;
    delete service_;
    delete ctx_;
    delete root_;
  }

  static httplib::Client Client() {
    httplib::Client c("127.0.0.1", http_->port());
    c.set_read_timeout(300, 0);
    return c;
  }
  static httplib::Headers Auth(const std::string& scope) {
    if (scope.empty()) return {};
    if (scope == "bad") return {{"Authorization", "Bearer sk_000000000000_notakey"}};
    return {{"Authorization", "Bearer " + (*keys_)[scope]}};
  }
  struct Resp {
    int status = 0;
    json body;
    std::string text;
    httplib::Headers headers;
  };
  static Resp Call(const std::string& method, const std::string& target, const std::string& scope,
                   const std::string& body = "", httplib::Headers extra = {}) {
    auto c = Client();
    httplib::Headers h = Auth(scope);
    for (auto& [k, v] : extra) h.emplace(k, v);
    auto send = [&]() -> httplib::Result {
      if (method == "POST") return c.Post(target.c_str(), h, body, "application/json");
      if (method == "DELETE") return c.Delete(target.c_str(), h);
      return c.Get(target.c_str(), h);
    };
    httplib::Result r = send();
    Resp out;
    if (!r) return out;
    out.status = r->status;
    out.text = r->body;
    out.headers = r->headers;
    out.body = json::parse(r->body, nullptr, false);
    return out;
  }
  static std::string Target(const std::string& pattern, const json& example) {
    std::string path = pattern;
    if (example.contains("path")) {
      for (auto it = example["path"].begin(); it != example["path"].end(); ++it) {
        const std::string k = "{" + it.key() + "}";
        path.replace(path.find(k), k.size(), it.value().get<std::string>());
      }
    }
    if (example.contains("query")) {
      httplib::Params p;
      for (auto it = example["query"].begin(); it != example["query"].end(); ++it) p.emplace(it.key(), it.value().get<std::string>());
      path += "?" + httplib::detail::params_to_query_str(p);
    }
    return path;
  }

  static inline fs::path* root_ = nullptr;
  static inline fs::path data_;
  static inline app::AppContext* ctx_ = nullptr;
  static inline server::Service* service_ = nullptr;
  static inline server::HttpServer* http_ = nullptr;
  static inline std::thread* thread_ = nullptr;
  static inline std::map<std::string, std::string>* keys_ = new std::map<std::string, std::string>();
  static inline json* doc_ = new json();
};

TEST_F(ServerTest, EveryServedRouteIsDocumentedAndEveryDocumentedRouteAnswersItsShape) {
  const json& doc = *doc_;
  // Served -> documented, with the same scope.
  std::set<std::pair<std::string, std::string>> served;
  for (const auto& r : service_->routes()) {
    std::string m = r.method;
    for (char& ch : m) ch = static_cast<char>(std::tolower(ch));
    served.insert({r.pattern, m});
    ASSERT_TRUE(doc["paths"].contains(r.pattern) && doc["paths"][r.pattern].contains(m))
        << r.method << " " << r.pattern << " is served but not in docs/openapi.json";
    const json& scope = doc["paths"][r.pattern][m]["x-souk-scope"];
    EXPECT_EQ(scope.is_null() ? std::string("none") : scope.get<std::string>(),
              r.scope ? std::string(server::ScopeName(*r.scope)) : std::string("none"))
        << r.pattern;
  }
  // Documented -> served, answering the example with the documented shape, in document order.
  std::vector<std::tuple<int, std::string, std::string>> ops;
  for (auto p = doc["paths"].begin(); p != doc["paths"].end(); ++p) {
    for (auto m = p.value().begin(); m != p.value().end(); ++m) {
      ASSERT_TRUE(served.count({p.key(), m.key()})) << m.key() << " " << p.key() << " is documented but not served";
      ops.emplace_back(m.value()["x-souk-order"].get<int>(), p.key(), m.key());
    }
  }
  std::sort(ops.begin(), ops.end());
  for (const auto& [order, pattern, method] : ops) {
    const json& op = doc["paths"][pattern][method];
    ASSERT_TRUE(op.contains("x-souk-example")) << pattern;
    const json& ex = op["x-souk-example"];
    std::string m = method;
    for (char& ch : m) ch = static_cast<char>(std::toupper(ch));
    const std::string target = Target(pattern, ex);
    Resp r = Call(m, target, "admin", ex.contains("body") ? ex["body"].dump() : "");
    const int want = ex["status"].get<int>();
    ASSERT_EQ(r.status, want) << m << " " << target << ": " << r.text.substr(0, 400);
    const std::string code = std::to_string(r.status);
    const json& responses = op["responses"];
    const json& spec = responses.contains(code) ? responses[code] : responses["default"];
    if (spec["content"].contains("text/plain")) {
      EXPECT_FALSE(r.text.empty()) << target;
      continue;
    }
    ASSERT_FALSE(r.body.is_discarded()) << target << ": not JSON: " << r.text.substr(0, 200);
    const std::string err = Check(doc, spec["content"]["application/json"]["schema"], r.body, "body");
    EXPECT_EQ(err, "") << m << " " << target << ": " << r.text.substr(0, 400);
    if (pattern == "/v1/admin/train") {
      // Let the job finish before later steps read jobs.
      const int64_t id = r.body["jobs"][0]["id"].get<int64_t>();
      for (int i = 0; i < 600; ++i) {
        Resp j = Call("GET", fmt::format("/v1/admin/jobs/{}", id), "admin");
        if (j.body.is_object() && (j.body["state"] == "succeeded" || j.body["state"] == "failed")) {
          EXPECT_EQ(j.body["state"], "succeeded") << j.text;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
  }
}

TEST_F(ServerTest, AuthTableOverEveryRouteAndScope) {
  for (const auto& r : service_->routes()) {
    std::string target = r.pattern;
    for (const char* p : {"{id}", "{scenario}", "{name}", "{kind}"}) {
      const size_t k = target.find(p);
      if (k != std::string::npos) target.replace(k, std::strlen(p), "auth-probe-unknown");
    }
    for (const std::string scope : {"", "bad", "search", "ingest", "admin"}) {
      // Bodies are malformed so no allowed call changes anything (POST handlers parse first).
      Resp resp = Call(r.method, target, scope, "{");
      ASSERT_NE(resp.status, 0) << r.pattern;
      EXPECT_LT(resp.status, 500) << r.method << " " << r.pattern << " with " << scope << ": " << resp.text;
      if (!r.scope) {
        EXPECT_NE(resp.status, 401) << r.pattern;
        EXPECT_NE(resp.status, 403) << r.pattern;
        continue;
      }
      if (scope.empty() || scope == "bad") {
        EXPECT_EQ(resp.status, 401) << r.method << " " << r.pattern << " with " << (scope.empty() ? "no key" : "a bad key");
        EXPECT_EQ(resp.body["error"]["code"], "unauthorized");
        continue;
      }
      const bool allowed = scope == "admin" || scope == std::string(server::ScopeName(*r.scope));
      if (allowed) {
        EXPECT_NE(resp.status, 401) << r.pattern << " " << scope;
        EXPECT_NE(resp.status, 403) << r.pattern << " " << scope;
      } else {
        EXPECT_EQ(resp.status, 403) << r.method << " " << r.pattern << " with " << scope;
        EXPECT_EQ(resp.body["error"]["code"], "forbidden");
      }
    }
  }
}

TEST_F(ServerTest, BadInputIsAlways4xxWithAClearErrorBody) {
  struct Case {
    std::string method, target, body;
    int status;
    std::string field;  // expected error field ("" = any)
  };
  const std::vector<Case> cases = {
      {"POST", "/v1/items", "{\"items\": [", 400, "body"},
      {"POST", "/v1/items", "{\"items\": [{\"id\": \"x\", \"price\": \"cheap\"}]}", 400, "items[0].price"},
      {"POST", "/v1/items", "{\"items\": [{\"id\": \"x\", \"colour\": \"red\"}]}", 400, "items[0].colour"},
      {"POST", "/v1/items", std::string("{\"items\": [{\"id\": \"\xc3\x28\"}]}"), 400, "body"},
      {"POST", "/v1/items", "[1,2,3]", 400, "body"},
      {"POST", "/v1/events", "{\"events\": [{\"type\": \"teleport\", \"user\": \"u\"}]}", 400, "events[0].type"},
      {"POST", "/v1/events", "{\"events\": [{\"type\": \"view\", \"user\": \"u\", \"price\": -5}]}", 400, ""},
      {"POST", "/v1/events", "{\"events\": [{\"type\": \"view\", \"user\": \"u\", \"context\": {\"note\": \"mail me at a.b@example.com\"}}]}", 400, "events[0].context.note"},
      {"POST", "/v1/events", "{\"events\": 5}", 400, "events"},
      {"GET", "/v1/search?q=drill&limit=0", "", 400, "limit"},
      {"GET", "/v1/search?q=drill&limit=abc", "", 400, "limit"},
      {"GET", "/v1/search?q=drill&filter=price%3D50..10", "", 400, ""},
      {"GET", "/v1/search?q=drill&sort=random", "", 400, ""},
      {"GET", "/v1/search?qq=drill", "", 400, "qq"},
      {"GET", "/v1/search?q=%FF%FE", "", 400, "q"},
      {"POST", "/v1/search", "{\"query\": 5}", 400, "body.query"},
      {"GET", "/v1/recommendations/nosuch", "", 404, "scenario"},
      {"GET", "/v1/recommendations/home?n=0", "", 400, "n"},
      {"GET", "/v1/recommendations/home?n=1000000", "", 400, "n"},
      {"GET", "/v1/recommendations/similar?item=no-such-item", "", 404, ""},
      {"GET", "/v1/intent", "", 400, "user"},
      {"GET", "/v1/intent?user=x&lang=fr", "", 400, "lang"},
      {"GET", "/v1/items/no-such-item", "", 404, "id"},
      {"GET", "/v1/autocomplete", "", 400, "q"},
      {"GET", "/v1/admin/jobs/abc", "", 400, "id"},
      {"POST", "/v1/admin/train", "{\"kinds\": [\"everything\"]}", 400, "kinds[0]"},
      {"POST", "/v1/experiments", "{\"name\": \"Bad Name!\", \"variants\": []}", 400, ""},
      {"GET", "/v1/no/such/route", "", 404, ""},
      {"DELETE", "/v1/search", "", 405, ""},
  };
  for (const Case& c : cases) {
    Resp r = Call(c.method, c.target, "admin", c.body);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target << " " << c.body << " -> " << r.text;
    ASSERT_TRUE(r.body.is_object() && r.body.contains("error")) << c.target << ": " << r.text;
    EXPECT_FALSE(r.body["error"]["message"].get<std::string>().empty());
    EXPECT_TRUE(r.body["error"].contains("request_id"));
    if (!c.field.empty()) {
      EXPECT_EQ(r.body["error"].value("field", ""), c.field) << c.target << ": " << r.text;
    }
  }
  // A body over the limit: 413 with the error body.
  Resp big = Call("POST", "/v1/events", "admin", std::string(2 << 20, ' '));
  EXPECT_EQ(big.status, 413);
  ASSERT_TRUE(big.body.is_object()) << big.text;
  EXPECT_EQ(big.body["error"]["code"], "payload_too_large");
  // Request ids are echoed.
  Resp rid = Call("GET", "/healthz", "", "", {{"X-Request-Id", "my-req-42"}});
  EXPECT_EQ(httplib::detail::get_header_value(rid.headers, "X-Request-Id", 0, ""), std::string("my-req-42"));
}

TEST_F(ServerTest, RetriedEventBatchesAreStoredOnceAndUpdateSessionsAtOnce) {
  const std::string batch = R"({"events":[
      {"type":"view","user":"idem-user","session":"idem-s","item":"idem-item"},
      {"type":"add_to_cart","user":"idem-user","session":"idem-s","item":"idem-item","price":12.5,"quantity":2}]})";
  Resp first = Call("POST", "/v1/events", "ingest", batch, {{"Idempotency-Key", "batch-77"}});
  ASSERT_EQ(first.status, 200) << first.text;
  EXPECT_EQ(first.body["appended"], 2);
  Resp retry = Call("POST", "/v1/events", "ingest", batch, {{"Idempotency-Key", "batch-77"}});
  ASSERT_EQ(retry.status, 200);
  EXPECT_EQ(retry.body["appended"], 0);
  EXPECT_EQ(retry.body["duplicates"], 2);
  Resp s = Call("GET", "/v1/sessions/idem-s", "search");
  ASSERT_EQ(s.status, 200) << s.text;
  EXPECT_EQ(s.body["counters"]["views"], 1);
  EXPECT_EQ(s.body["counters"]["carts"], 1);
  // Per-event ids make retries idempotent without the header, even re-batched.
  const std::string e1 = R"({"events":[{"type":"view","user":"idem-user","session":"idem-s","item":"idem-item","event_id":"ev-1"}]})";
  EXPECT_EQ(Call("POST", "/v1/events", "ingest", e1).body["appended"], 1);
  EXPECT_EQ(Call("POST", "/v1/events", "ingest", e1).body["appended"], 0);
  // The new cart counts for the shopper's intent at once (no retraining).
  Resp intent = Call("GET", "/v1/intent?user=idem-user&session=idem-s", "search");
  ASSERT_EQ(intent.status, 200) << intent.text;
  EXPECT_EQ(intent.body["events"], 3);
}

TEST_F(ServerTest, ForgettingAUserLeavesNoTrace) {
  const std::string batch = R"({"events":[
      {"type":"view","user":"forget-me","session":"fs-1","item":"forget-item"},
      {"type":"purchase","user":"forget-me","session":"fs-1","item":"forget-item","price":3,"quantity":1}]})";
  ASSERT_EQ(Call("POST", "/v1/events", "ingest", batch).status, 200);
  ASSERT_EQ(Call("GET", "/v1/sessions/fs-1", "search").status, 200);
  Resp del = Call("DELETE", "/v1/users/forget-me", "admin");
  ASSERT_EQ(del.status, 200) << del.text;
  EXPECT_EQ(del.body["events_removed"], 2);
  EXPECT_EQ(del.body["sessions_removed"], 1);
  EXPECT_EQ(Call("GET", "/v1/sessions/fs-1", "search").status, 404);
  // The store (and so the next training's data) has no event and no user row of theirs.
  app::AppContext ctx = *ctx_;
  auto store = store::SqliteStore::Open(ctx.DbPath());
  ASSERT_TRUE(store.ok());
  auto snap = (*store)->OpenSnapshot();
  ASSERT_TRUE(snap.ok());
  auto users = (*snap)->UserIds();
  ASSERT_TRUE(users.ok());
  EXPECT_EQ(std::count(users->begin(), users->end(), "forget-me"), 0);
  auto recent = (*store)->RecentEvents({.user_id = "forget-me", .session_id = "", .limit = 10});
  ASSERT_TRUE(recent.ok());
  EXPECT_TRUE(recent->empty());
  // Audited, without the raw id.
  std::ifstream audit(data_ / "audit.jsonl");
  std::string all((std::istreambuf_iterator<char>(audit)), std::istreambuf_iterator<char>());
  EXPECT_NE(all.find("forget_user"), std::string::npos);
  EXPECT_EQ(all.find("forget-me"), std::string::npos);
  // The session journal on disk does not keep them either.
  for (const auto& f : fs::directory_iterator(data_ / "online")) {
    std::ifstream in(f.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find("forget-me"), std::string::npos) << f.path();
  }
}

TEST_F(ServerTest, PrivacyModeLogsCarryNoRawIdsOrQueries) {
  server::ApiRequest req;
  req.method = "GET";
  req.path = "/v1/recommendations/home";
  req.query.emplace("user", "secret-user-42");
  req.query.emplace("q", "private query text");
  req.request_id = "r1";
  const std::string open_line = service_->LogLine(req, "/v1/recommendations/{scenario}", 200, 1.5);
  EXPECT_NE(open_line.find("secret-user-42"), std::string::npos);  // privacy off: full detail
  app::AppContext ctx;
  ctx.data_dir = (*root_ / "private").string();
  ctx.overrides = {"privacy.mode=true", "privacy.pseudonymize_users=true"};
  ASSERT_TRUE(ctx.Init().ok());
  auto so = server::ServiceOptionsFrom(ctx.config);
  ASSERT_TRUE(so.ok());
  so->load_engines = false;
  auto priv = server::Service::Open(ctx, *so);
  ASSERT_TRUE(priv.ok()) << priv.status().ToString();
  const std::string line = (*priv)->LogLine(req, "/v1/recommendations/{scenario}", 200, 1.5);
  EXPECT_EQ(line.find("secret-user-42"), std::string::npos) << line;
  EXPECT_EQ(line.find("private query"), std::string::npos) << line;
  EXPECT_EQ((*priv)->UserKey("alice"), (*priv)->UserKey("alice"));
  EXPECT_NE((*priv)->UserKey("alice"), "alice");
  EXPECT_NE((*priv)->UserKey("alice"), (*priv)->UserKey("bob"));
}

TEST_F(ServerTest, PseudonymizedIdsAndRateLimits) {
  app::AppContext ctx;
  ctx.data_dir = (*root_ / "limited").string();
  ctx.overrides = {"privacy.pseudonymize_users=true"};
  ASSERT_TRUE(ctx.Init().ok());
  auto so = server::ServiceOptionsFrom(ctx.config);
  ASSERT_TRUE(so.ok());
  so->load_engines = false;
  so->rate.requests_per_second = 1;
  so->rate.burst = 3;
  auto svc = server::Service::Open(ctx, *so);
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  server::HttpServerOptions ho;
  ho.port = 0;
  ho.log_requests = false;
  server::HttpServer http(**svc, ho);
  ASSERT_TRUE(http.Bind().ok());
  std::thread t([&] { (void)http.Listen(); });
  auto key = (*svc)->keys().Create(server::Scope::kAdmin, "limited");
  ASSERT_TRUE(key.ok());
  httplib::Client c("127.0.0.1", http.port());
  httplib::Headers h = {{"Authorization", "Bearer " + *key}};
  auto r = c.Post("/v1/events", h, R"({"events":[{"type":"view","user":"alice","session":"a1","item":"i1"}]})",
                  "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  int limited = 0;
  std::string retry_after;
  for (int i = 0; i < 6; ++i) {
    auto g = c.Get("/v1/admin/status", h);
    ASSERT_TRUE(g);
    if (g->status == 429) {
      ++limited;
      retry_after = g->get_header_value("Retry-After");
    }
  }
  EXPECT_GE(limited, 3);
  EXPECT_EQ(retry_after, "1");
  http.Stop();
  t.join();
  // The store keeps the pseudonym, never "alice".
  auto store = store::SqliteStore::Open(ctx.DbPath());
  ASSERT_TRUE(store.ok());
  auto snap = (*store)->OpenSnapshot();
  auto users = (*snap)->UserIds();
  ASSERT_TRUE(users.ok());
  EXPECT_EQ(std::count(users->begin(), users->end(), "alice"), 0);
  EXPECT_EQ(std::count(users->begin(), users->end(), (*svc)->UserKey("alice")), 1);
}

TEST_F(ServerTest, NewChangedAndDeletedItemsShowInSearchAtOnce) {
  auto ids = [](const Resp& r) {
    std::vector<std::string> out;
    for (const auto& h : r.body["hits"]) out.push_back(h["id"].get<std::string>());
    return out;
  };
  auto has = [](const std::vector<std::string>& v, const std::string& id) {
    return std::find(v.begin(), v.end(), id) != v.end();
  };
  Resp up = Call("POST", "/v1/items", "ingest",
                 R"({"items":[{"id":"live-1","title":"Zorblatt titanium widget","brand":"Quuxco","category":"Tools > Widgets","price":19.5}]})");
  ASSERT_EQ(up.status, 200) << up.text;
  EXPECT_EQ(up.body["live"]["search"], "updated") << up.text;
  Resp s1 = Call("GET", "/v1/search?q=zorblatt&limit=5", "search");
  ASSERT_EQ(s1.status, 200) << s1.text;
  EXPECT_TRUE(has(ids(s1), "live-1")) << s1.text;
  // Changed: the new title is found, the old one no longer.
  ASSERT_EQ(Call("POST", "/v1/items", "ingest",
                 R"({"items":[{"id":"live-1","title":"Frobnicator brass widget","brand":"Quuxco","category":"Tools > Widgets","price":21}]})")
                .status, 200);
  EXPECT_TRUE(has(ids(Call("GET", "/v1/search?q=frobnicator&limit=5", "search")), "live-1"));
  EXPECT_FALSE(has(ids(Call("GET", "/v1/search?q=zorblatt&limit=5", "search")), "live-1"));
  // Recommendable at once: "similar" for the new item answers from its text.
  Resp sim = Call("GET", "/v1/recommendations/similar?item=live-1&n=5", "search");
  ASSERT_EQ(sim.status, 200) << sim.text;
  EXPECT_TRUE(sim.body["cold_start"].get<bool>()) << sim.text;
  ASSERT_FALSE(sim.body["items"].empty()) << sim.text;
  for (const auto& it : sim.body["items"]) {
    EXPECT_NE(it["id"], "live-1");
    EXPECT_NE(it["reason"].get<std::string>().find("Frobnicator brass widget"), std::string::npos) << it.dump();
  }
  EXPECT_EQ(Call("GET", "/v1/recommendations/similar?item=no-such-item", "search").status, 404);
  // A filter on the new brand finds it; autocomplete is rebuilt with the index (not live).
  EXPECT_TRUE(has(ids(Call("GET", "/v1/search?q=widget&filter=brand%3DQuuxco&limit=5", "search")), "live-1"));
  // Deleted: gone from search at once, also from dense retrieval and filters.
  ASSERT_EQ(Call("DELETE", "/v1/items/live-1", "ingest").status, 200);
  EXPECT_FALSE(has(ids(Call("GET", "/v1/search?q=frobnicator&limit=5", "search")), "live-1"));
  EXPECT_FALSE(has(ids(Call("GET", "/v1/search?q=widget&filter=brand%3DQuuxco&limit=5", "search")), "live-1"));
  EXPECT_EQ(Call("GET", "/v1/items/live-1", "search").status, 404);
  // An existing, indexed item deleted leaves search and recommendations.
  Resp trending = Call("GET", "/v1/recommendations/trending?n=5", "search");
  ASSERT_EQ(trending.status, 200) << trending.text;
  ASSERT_FALSE(trending.body["items"].empty());
  const std::string top = trending.body["items"][0]["id"].get<std::string>();
  Resp item = Call("GET", "/v1/items/" + top, "search");
  ASSERT_EQ(item.status, 200);
  const std::string title = item.body["title"].get<std::string>();
  ASSERT_EQ(Call("DELETE", "/v1/items/" + top, "ingest").status, 200);
  Resp after = Call("GET", "/v1/recommendations/trending?n=5", "search");
  for (const auto& it : after.body["items"]) EXPECT_NE(it["id"].get<std::string>(), top);
  httplib::Params p{{"q", title}, {"limit", "20"}};
  Resp s2 = Call("GET", "/v1/search?" + httplib::detail::params_to_query_str(p), "search");
  ASSERT_EQ(s2.status, 200);
  EXPECT_FALSE(has(ids(s2), top)) << title;
  // The doc order on disk follows (a restart maps the index to the same items).
  std::ifstream docs(data_ / "index" / "docs.txt");
  std::string all((std::istreambuf_iterator<char>(docs)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all.find("\n" + top + "\n"), std::string::npos);
}

TEST_F(ServerTest, ConsoleRoutesShoppersReportsQuarantineAndPipelines) {
  // Shoppers: most active first, then one shopper's history oldest first with titles.
  Resp users = Call("GET", "/v1/users?sort=events&limit=5", "admin");
  ASSERT_EQ(users.status, 200) << users.text;
  ASSERT_EQ(users.body["users"].size(), 5u);
  for (size_t i = 1; i < 5; ++i) {
    EXPECT_GE(users.body["users"][i - 1]["events"].get<int64_t>(), users.body["users"][i]["events"].get<int64_t>());
  }
  const std::string uid = users.body["users"][0]["id"];
  Resp pre = Call("GET", "/v1/users?prefix=" + uid + "&limit=3", "admin");
  ASSERT_EQ(pre.status, 200);
  ASSERT_FALSE(pre.body["users"].empty());
  EXPECT_EQ(pre.body["users"][0]["id"], uid);
  EXPECT_EQ(pre.body["users"][0]["events"], users.body["users"][0]["events"]);
  Resp hist = Call("GET", "/v1/users/" + uid + "/events?limit=50", "admin");
  ASSERT_EQ(hist.status, 200) << hist.text;
  ASSERT_EQ(hist.body["events"].size(), 50u);
  int64_t prev = 0;
  bool titled = false;
  for (const auto& e : hist.body["events"]) {
    EXPECT_GE(e["timestamp_ms"].get<int64_t>(), prev);
    prev = e["timestamp_ms"];
    if (e.contains("item") && e.contains("title") && !e["title"].get<std::string>().empty()) titled = true;
  }
  EXPECT_TRUE(titled) << hist.text;
  EXPECT_EQ(Call("GET", "/v1/users?sort=nope", "admin").status, 400);
  EXPECT_EQ(Call("GET", "/v1/users", "search").status, 403);  // shoppers' data needs admin

  // Reports: a saved report is listed and served; a name with a path is refused.
  fs::create_directories(data_ / "reports");
  {
    std::ofstream f(data_ / "reports" / "eval-synthetic-20300101T000000Z.json");
    f << R"({"task":"intent","protocol":"synthetic","dataset":"d","metrics":{"roc_auc":0.9},"seconds":1.5})";
  }
  {
    std::ofstream f(data_ / "reports" / "eval-broken-20300101T000001Z.json");
    f << R"({"task":)";  // half-written: skipped, never a 500
  }
  Resp list = Call("GET", "/v1/admin/reports", "admin");
  ASSERT_EQ(list.status, 200) << list.text;
  bool listed = false;
  for (const auto& r : list.body["reports"]) {
    EXPECT_NE(r["name"], "eval-broken-20300101T000001Z.json");
    if (r["name"] == "eval-synthetic-20300101T000000Z.json") {
      listed = true;
      EXPECT_EQ(r["task"], "intent");
      EXPECT_DOUBLE_EQ(r["metrics"]["roc_auc"].get<double>(), 0.9);
    }
  }
  EXPECT_TRUE(listed) << list.text;
  EXPECT_EQ(Call("GET", "/v1/admin/reports?task=search", "admin").body["reports"].size(), 0u);
  Resp one = Call("GET", "/v1/admin/reports/eval-synthetic-20300101T000000Z.json", "admin");
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.body["protocol"], "synthetic");
  EXPECT_EQ(Call("GET", "/v1/admin/reports/keys.json", "admin").status, 400);
  EXPECT_EQ(Call("GET", "/v1/admin/reports/..%2Fkeys.json", "admin").status / 100, 4);
  EXPECT_EQ(Call("GET", "/v1/admin/reports/eval-broken-20300101T000001Z.json", "admin").status, 503);

  // Quarantine: totals agree with the reasons, rows carry their reason.
  Resp q = Call("GET", "/v1/admin/quarantine?limit=3", "admin");
  ASSERT_EQ(q.status, 200) << q.text;
  int64_t sum = 0;
  for (const auto& [k, v] : q.body["reasons"].items()) sum += v.get<int64_t>();
  EXPECT_EQ(q.body["total"].get<int64_t>(), sum);
  EXPECT_EQ(q.body["rows"].size(), static_cast<size_t>(std::min<int64_t>(3, sum)));
  for (const auto& row : q.body["rows"]) EXPECT_TRUE(q.body["reasons"].contains(row["reason"].get<std::string>()));

  // Pipelines: bm25 ranks by lexical fusion only; dense answers without the lexical index.
  Resp full = Call("GET", "/v1/search?q=wireless&limit=10&explain=true", "search");
  Resp bm25 = Call("GET", "/v1/search?q=wireless&limit=10&explain=true&pipeline=bm25", "search");
  Resp dense = Call("GET", "/v1/search?q=wireless&limit=10&explain=true&pipeline=dense", "search");
  ASSERT_EQ(bm25.status, 200) << bm25.text;
  ASSERT_EQ(dense.status, 200) << dense.text;
  EXPECT_EQ(bm25.body["pipeline"], "bm25");
  EXPECT_EQ(bm25.body["ranker"], "fusion");
  EXPECT_EQ(full.body["total"], bm25.body["total"]);
  for (const auto& h : bm25.body["hits"]) {
    EXPECT_FALSE(h["explain"]["dense"].contains("rank")) << h.dump();
    EXPECT_FALSE(h["explain"].contains("ltr")) << h.dump();
  }
  for (const auto& h : dense.body["hits"]) {
    EXPECT_FALSE(h["explain"]["lexical"].contains("rank")) << h.dump();
  }
  Resp bad = Call("GET", "/v1/search?q=wireless&pipeline=magic", "search");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["error"]["field"], "pipeline");
  EXPECT_EQ(Call("POST", "/v1/search", "search", R"({"query":"wireless","pipeline":"hybrid"})").body["pipeline"], "hybrid");
}

TEST_F(ServerTest, ServesTheEmbeddedConsole) {
  Resp root = Call("GET", "/console/", "");
  ASSERT_EQ(root.status, 200);
  EXPECT_NE(root.text.find("<html"), std::string::npos);
  EXPECT_EQ(httplib::detail::get_header_value(root.headers, "Cache-Control", 0, ""), std::string("no-cache"));
  EXPECT_NE(std::string(httplib::detail::get_header_value(root.headers, "Content-Security-Policy", 0, "")).find("default-src 'self'"),
            std::string::npos);
  // Client-side routes get the page; a missing file is a JSON 404; /console redirects.
  EXPECT_EQ(Call("GET", "/console/search", "").text, root.text);
  Resp missing = Call("GET", "/console/assets/nope-123.js", "");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body["error"]["code"], "not_found");
  EXPECT_EQ(Call("GET", "/console", "").status, 301);
  // Every file the page names is served, with the long cache of hashed bundles.
  size_t pos = 0, found = 0;
  while ((pos = root.text.find("/console/assets/", pos)) != std::string::npos) {
    const size_t end = root.text.find('"', pos);
    const std::string asset = root.text.substr(pos, end - pos);
    Resp a = Call("GET", asset, "");
    EXPECT_EQ(a.status, 200) << asset;
    EXPECT_FALSE(a.text.empty());
    EXPECT_NE(std::string(httplib::detail::get_header_value(a.headers, "Cache-Control", 0, "")).find("immutable"),
              std::string::npos);
    // A browser's Accept-Encoding gets gzip, never Brotli at quality 11 (seconds per bundle).
    Resp z = Call("GET", asset, "", "", {{"Accept-Encoding", "gzip, deflate, br"}});
    EXPECT_EQ(z.status, 200);
    EXPECT_EQ(std::string(httplib::detail::get_header_value(z.headers, "Content-Encoding", 0, "")), "gzip") << asset;
    EXPECT_EQ(z.text, a.text);  // the client inflates it back to the same bytes
    pos = end;
    ++found;
  }
  if (server::ConsoleBuilt()) EXPECT_GE(found, 1u) << root.text;
}

// A self-signed certificate for localhost (OpenSSL API; no openssl binary needed).
bool WriteSelfSignedCert(const fs::path& cert, const fs::path& key) {
  EVP_PKEY* pkey = EVP_RSA_gen(2048);
  if (pkey == nullptr) return false;
  X509* x = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, pkey);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  bool ok = X509_sign(x, pkey, EVP_sha256()) > 0;
  FILE* kf = std::fopen(key.c_str(), "w");
  FILE* cf = std::fopen(cert.c_str(), "w");
  ok = ok && kf && cf && PEM_write_PrivateKey(kf, pkey, nullptr, nullptr, 0, nullptr, nullptr) == 1 &&
       PEM_write_X509(cf, x) == 1;
  if (kf) std::fclose(kf);
  if (cf) std::fclose(cf);
  X509_free(x);
  EVP_PKEY_free(pkey);
  return ok;
}

TEST_F(ServerTest, ServesHttpsWhenACertificateIsConfigured) {
  const fs::path dir = *root_ / "tls";
  fs::create_directories(dir);
  ASSERT_TRUE(WriteSelfSignedCert(dir / "cert.pem", dir / "key.pem"));
  app::AppContext ctx;
  ctx.data_dir = (dir / "data").string();
  ASSERT_TRUE(ctx.Init().ok());
  auto so = server::ServiceOptionsFrom(ctx.config);
  ASSERT_TRUE(so.ok());
  so->load_engines = false;
  auto svc = server::Service::Open(ctx, *so);
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  // Missing files are a clear error, not a crash.
  server::HttpServerOptions bad;
  bad.port = 0;
  bad.tls_cert = (dir / "nope.pem").string();
  bad.tls_key = (dir / "key.pem").string();
  server::HttpServer bad_server(**svc, bad);
  Status st = bad_server.Bind();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("nope.pem"), std::string::npos);

  server::HttpServerOptions ho;
  ho.port = 0;
  ho.log_requests = false;
  ho.tls_cert = (dir / "cert.pem").string();
  ho.tls_key = (dir / "key.pem").string();
  server::HttpServer https(**svc, ho);
  ASSERT_TRUE(https.Bind().ok());
  std::thread t([&] { (void)https.Listen(); });
  httplib::SSLClient c("127.0.0.1", https.port());
  c.enable_server_certificate_verification(false);
  auto r = c.Get("/healthz");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("\"ready\""), std::string::npos);
  // Plain HTTP to the TLS port gets no answer.
  httplib::Client plain("127.0.0.1", https.port());
  plain.set_read_timeout(2, 0);
  auto p = plain.Get("/healthz");
  EXPECT_TRUE(!p || p->status != 200);
  https.Stop();
  t.join();
}

TEST_F(ServerTest, ReloadsUnderLoadFailNoRequest) {
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 2; ++t) {
    clients.emplace_back([&, t] {
      auto c = Client();
      const httplib::Headers h = Auth("search");
      while (!stop) {
        auto r = t == 0 ? c.Get("/v1/search?q=drill&limit=5", h) : c.Get("/v1/recommendations/trending?n=5", h);
        if (r && r->status == 200) ++ok; else ++failed;
      }
    });
  }
  for (int i = 0; i < 3; ++i) {
    Resp r = Call("POST", "/v1/admin/reload", "admin");
    EXPECT_EQ(r.status, 200) << r.text;
  }
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_GT(ok.load(), 10);
  EXPECT_EQ(failed.load(), 0);
  Resp m = Call("GET", "/metrics", "admin");
  EXPECT_NE(m.text.find("souk_http_requests_total{route=\"/v1/search\",method=\"GET\",status=\"200\"}"), std::string::npos);
  EXPECT_NE(m.text.find("souk_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(m.text.find("souk_engine_reloads_total"), std::string::npos);
}

}  // namespace
}  // namespace souk
