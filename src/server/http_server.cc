#include "server/http_server.h"

#include "server/console_assets.h"

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>
#include <random>
#include <regex>
#include <strings.h>

namespace souk::server {
namespace {

using nlohmann::json;

// "/v1/items/{id}" -> "/v1/items/([^/]+)" and the parameter names.
std::string PatternToRegex(const std::string& pattern, std::vector<std::string>* names) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '{') {
      const size_t end = pattern.find('}', i);
      names->push_back(pattern.substr(i + 1, end - i - 1));
      out += "([^/]+)";
      i = end;
    } else if (std::string_view(".+*?()[]^$|\\").find(pattern[i]) != std::string_view::npos) {
      out += '\\';
      out += pattern[i];
    } else {
      out += pattern[i];
    }
  }
  return out;
}

std::string MakeRequestId() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t prefix = std::random_device{}();
  return fmt::format("{:08x}-{:06x}", static_cast<uint32_t>(prefix), ++counter & 0xffffff);
}

bool ValidRequestId(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

void WriteError(httplib::Response& res, const ApiError& e, const std::string& request_id) {
  res.status = e.http;
  res.set_content(ErrorBody(e, request_id).dump(-1, ' ', false, json::error_handler_t::replace),
                  "application/json");
}

struct CompiledRoute {
  const Route* route;
  std::string pattern;  // the regex text cpp-httplib matches
  std::regex re;        // the same, for the 405 check of unmatched requests
  std::vector<std::string> names;
};

// An Accept-Encoding value without its "br" entries ("gzip, deflate, br" ->
// "gzip, deflate").
std::string WithoutBrotli(const std::string& value) {
  std::string out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find(',', start);
    if (end == std::string::npos) end = value.size();
    std::string token = value.substr(start, end - start);
    const size_t b = token.find_first_not_of(" \t");
    const size_t e = token.find_last_not_of(" \t");
    token = b == std::string::npos ? "" : token.substr(b, e - b + 1);
    std::string coding = token.substr(0, token.find(';'));
    while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) coding.pop_back();
    if (!token.empty() && strcasecmp(coding.c_str(), "br") != 0) out += (out.empty() ? "" : ", ") + token;
    start = end + 1;
  }
  return out;
}

}  // namespace

HttpServer::HttpServer(Service& service, HttpServerOptions options) : service_(service), options_(std::move(options)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Install() {
  httplib::Server& svr = *http_;
  const int threads = std::max(1, options_.threads);
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  svr.set_payload_max_length(service_.options().max_body_bytes);
  svr.set_read_timeout(30, 0);
  svr.set_write_timeout(30, 0);
  // Headers and body go out in separate writes: without TCP_NODELAY, Nagle's
  // algorithm holds the body until the client's delayed ACK (~40 ms per request
  // on a keep-alive connection, measured in bench/load).
  svr.set_tcp_nodelay(true);
  svr.set_keep_alive_max_count(1000);
  // A keep-alive connection holds a worker thread while it lives: release idle ones soon.
  svr.set_keep_alive_timeout(2);

  // Debian's cpp-httplib is built with Brotli and compresses every text / JSON
  // answer at Brotli's default quality 11 when the client accepts "br": 1.7 s for
  // the console's 660 kB chart bundle (measured), and slow for large JSON. Drop
  // "br" from Accept-Encoding before routing, so such clients get gzip (zlib's
  // default level, milliseconds). The Request is httplib's own non-const object.
  svr.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
    auto& headers = const_cast<httplib::Headers&>(req.headers);
    auto [first, last] = headers.equal_range("Accept-Encoding");  // case-insensitive map
    for (auto it = first; it != last; ++it) it->second = WithoutBrotli(it->second);
    return httplib::Server::HandlerResponse::Unhandled;
  });

  auto compiled = std::make_shared<std::vector<CompiledRoute>>();
  for (const Route& r : service_.routes()) {
    CompiledRoute c;
    c.route = &r;
    c.pattern = PatternToRegex(r.pattern, &c.names);
    c.re = std::regex(c.pattern);
    compiled->push_back(std::move(c));
  }
  Service* service = &service_;
  const bool log = options_.log_requests;

  for (const CompiledRoute& cr : *compiled) {
    const Route* route = cr.route;
    const std::vector<std::string> names = cr.names;
    auto handler = [service, route, names, log](const httplib::Request& hreq, httplib::Response& res) {
      const auto t0 = std::chrono::steady_clock::now();
      ApiRequest req;
      req.method = hreq.method;
      req.path = hreq.path;
      req.body = hreq.body;
      req.client = hreq.remote_addr;
      for (size_t i = 0; i < names.size() && i + 1 < hreq.matches.size(); ++i) {
        req.path_params[names[i]] = hreq.matches[i + 1].str();
      }
      {
        // Only the URL's query string: cpp-httplib also merges a form-encoded body
        // into params (curl -d without a JSON content type), which must neither act
        // as parameters nor reach the request log.
        const size_t q = hreq.target.find('?');
        if (q != std::string::npos) {
          httplib::Params params;
          httplib::detail::parse_query_text(hreq.target.substr(q + 1), params);
          for (const auto& [k, v] : params) req.query.emplace(k, v);
        }
      }
      for (const auto& [k, v] : hreq.headers) {
        std::string lk = k;
        for (char& c : lk) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        req.headers[lk] = v;
      }
      auto rid = req.headers.find("x-request-id");
      req.request_id = rid != req.headers.end() && ValidRequestId(rid->second) ? rid->second : MakeRequestId();
      res.set_header("X-Request-Id", req.request_id);

      auto finish = [&](int status) {
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        service->metrics().ObserveRequest(route->pattern, req.method, status, secs);
        if (log) spdlog::info("{}", service->LogLine(req, route->pattern, status, secs * 1000));
      };

      // Authentication and scope.
      if (route->scope) {
        auto auth = req.headers.find("authorization");
        std::string token;
        if (auth != req.headers.end() && auth->second.rfind("Bearer ", 0) == 0) token = auth->second.substr(7);
        if (token.empty()) {
          res.set_header("WWW-Authenticate", "Bearer");
          WriteError(res, {401, "unauthorized", "missing API key: send 'Authorization: Bearer KEY' (souk keys create)", "Authorization"}, req.request_id);
          return finish(res.status);
        }
        auto info = service->keys().Verify(token);
        if (!info) {
          res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
          WriteError(res, {401, "unauthorized", "invalid or revoked API key", "Authorization"}, req.request_id);
          return finish(res.status);
        }
        if (!ScopeAllows(info->scope, *route->scope)) {
          WriteError(res, {403, "forbidden", fmt::format("this key's scope is '{}'; {} {} needs '{}' (or 'admin')",
                                                         ScopeName(info->scope), route->method, route->pattern,
                                                         ScopeName(*route->scope)), ""},
                     req.request_id);
          return finish(res.status);
        }
        req.key = *info;
        const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch()).count();
        double retry = 0;
        if (!service->limiter().Allow(info->id, now_ms, &retry)) {
          res.set_header("Retry-After", std::to_string(std::max<int64_t>(1, static_cast<int64_t>(std::ceil(retry)))));
          WriteError(res, {429, "rate_limited", fmt::format("rate limit of this key exceeded; retry after {:.2f} s", retry), ""},
                     req.request_id);
          return finish(res.status);
        }
      }

      StatusOr<ApiResponse> out = InternalError("no answer");
      try {
        out = route->handler(req);
      } catch (const std::exception& e) {
        out = InternalError(fmt::format("unexpected error: {}", e.what()));
      }
      if (!out.ok()) {
        ApiError e = ErrorFromStatus(out.status());
        if (e.http >= 500 && e.code == "internal") spdlog::error("request {} failed: {}", req.request_id, e.message);
        WriteError(res, e, req.request_id);
        return finish(res.status);
      }
      res.status = out->status;
      for (const auto& [k, v] : out->headers) res.set_header(k, v);
      if (!out->text.empty()) {
        res.set_content(out->text, out->content_type);
      } else {
        res.set_content(out->body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
      }
      finish(res.status);
    };
    const std::string& rx = cr.pattern;
    if (route->method == "GET") svr.Get(rx, handler);
    else if (route->method == "POST") svr.Post(rx, handler);
    else if (route->method == "DELETE") svr.Delete(rx, handler);
    else if (route->method == "PUT") svr.Put(rx, handler);
  }

  // The web console: static files embedded in the binary (no key needed to load
  // the page; it asks for one and calls the API with it).
  svr.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.status = 302;
    res.set_header("Location", "/console/");
  });
  svr.Get("/console", [](const httplib::Request&, httplib::Response& res) {
    res.status = 301;
    res.set_header("Location", "/console/");
  });
  const std::string console_dir = options_.console_dir;
  svr.Get(R"(/console/(.*))", [service, console_dir](const httplib::Request& req, httplib::Response& res) {
    std::optional<ConsoleFile> disk;
    const ConsoleAsset* embedded = nullptr;
    if (console_dir.empty()) {
      embedded = FindConsoleAsset(req.matches[1].str());
    } else {
      disk = ReadConsoleFile(console_dir, req.matches[1].str());
    }
    if (embedded == nullptr && !disk) {
      WriteError(res, {404, "not_found", fmt::format("no console file {}", req.path), ""}, MakeRequestId());
      service->metrics().ObserveRequest("/console", req.method, res.status, 0);
      return;
    }
    const std::string_view path = embedded ? embedded->path : std::string_view(disk->path);
    const std::string_view data = embedded ? embedded->data : std::string_view(disk->data);
    // Vite names bundles by content hash: they never change; the page itself must be re-read.
    const bool hashed = path.rfind("assets/", 0) == 0;
    res.set_header("Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; img-src 'self' data: blob: http: https:; style-src 'self' 'unsafe-inline'; "
                   "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'");
    res.set_content(data.data(), data.size(), std::string(ConsoleContentType(path)));
    service->metrics().ObserveRequest("/console", req.method, res.status, 0);
  });

  // Unknown routes, wrong methods, bodies too large: the JSON error body.
  svr.set_error_handler([compiled, service](const httplib::Request& req, httplib::Response& res) {
    // Called for every status >= 400: answers the route handlers made stay as they are.
    if (!res.body.empty()) return;
    std::string rid = MakeRequestId();
    if (auto it = req.headers.find("X-Request-Id"); it != req.headers.end() && ValidRequestId(it->second)) rid = it->second;
    res.set_header("X-Request-Id", rid);
    if (res.status == 404) {
      std::string allow;
      for (const auto& c : *compiled) {
        if (std::regex_match(req.path, c.re)) allow += (allow.empty() ? "" : ", ") + c.route->method;
      }
      if (!allow.empty()) {
        res.set_header("Allow", allow);
        WriteError(res, {405, "method_not_allowed", fmt::format("{} is not allowed on {} (allowed: {})", req.method, req.path, allow), ""}, rid);
      } else {
        WriteError(res, {404, "not_found", fmt::format("no route {} {} (see /v1/openapi.json)", req.method, req.path), ""}, rid);
      }
    } else if (res.status == 413) {
      WriteError(res, {413, "payload_too_large", fmt::format("request body larger than {} bytes", service->options().max_body_bytes), "body"}, rid);
    } else if (res.status == 400) {
      WriteError(res, {400, "bad_request", "malformed HTTP request", ""}, rid);
    } else if (res.body.empty()) {
      WriteError(res, {res.status, "http_error", fmt::format("HTTP {}", res.status), ""}, rid);
    }
    service->metrics().ObserveRequest("unmatched", req.method, res.status, 0);
  });
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("unhandled exception in a request: {}", what);
    WriteError(res, {500, "internal", "internal error", ""}, "");
  });
}

Status HttpServer::Bind() {
  if (!options_.tls_cert.empty() || !options_.tls_key.empty()) {
    if (options_.tls_cert.empty() || options_.tls_key.empty()) {
      return InvalidArgumentError("server.tls_cert and server.tls_key must be set together");
    }
    for (const auto& f : {options_.tls_cert, options_.tls_key}) {
      if (!std::filesystem::exists(f)) return InvalidArgumentError(fmt::format("TLS file {} does not exist", f));
    }
    auto ssl = std::make_unique<httplib::SSLServer>(options_.tls_cert.c_str(), options_.tls_key.c_str());
    if (!ssl->is_valid()) {
      return InvalidArgumentError(fmt::format("cannot load the TLS certificate {} / key {}", options_.tls_cert, options_.tls_key));
    }
    http_ = std::move(ssl);
  } else {
    http_ = std::make_unique<httplib::Server>();
  }
  Install();
  if (options_.port == 0) {
    port_ = http_->bind_to_any_port(options_.host);
    if (port_ <= 0) return UnavailableError(fmt::format("cannot bind {}:<any>", options_.host));
  } else {
    if (!http_->bind_to_port(options_.host, options_.port)) {
      return UnavailableError(fmt::format("cannot bind {}:{} (in use? try --port)", options_.host, options_.port));
    }
    port_ = options_.port;
  }
  return OkStatus();
}

Status HttpServer::Listen() {
  if (!http_) return FailedPreconditionError("Bind() first");
  if (!http_->listen_after_bind()) {
    if (!http_->is_running()) return OkStatus();  // stopped
  }
  return OkStatus();
}

void HttpServer::Stop() {
  if (http_) http_->stop();
}

}  // namespace souk::server
