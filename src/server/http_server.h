// HttpServer: binds a Service's route table to HTTP (cpp-httplib): auth
// (Authorization: Bearer KEY, scopes), per-key rate limits (429 +
// Retry-After), body size limits (413), request ids (X-Request-Id, echoed or
// made), the JSON error body for every failure (including unknown routes 404
// and wrong methods 405), metrics and one structured JSON log line per request.
// HTTPS when a certificate and key are configured.
//
// Thread-safety: Listen() blocks and serves on a pool of worker threads;
// Stop() may be called from any thread (signal handlers: use a flag + thread).
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "server/service.h"

namespace httplib {
class Server;
}

namespace souk::server {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;            // 0 = any free port (see port())
  int threads = 8;
  std::string tls_cert, tls_key;  // both set = HTTPS
  bool log_requests = true;   // one JSON line per request on the log (info)
  // Serve /console/ from this folder (a Vite build) instead of the embedded copy:
  // for console development. Empty = embedded.
  std::string console_dir;
};

class HttpServer {
 public:
  HttpServer(Service& service, HttpServerOptions options);
  ~HttpServer();
  // Binds the socket. Errors: InvalidArgument for bad TLS files, Unavailable
  // when the address cannot be bound (naming host:port).
  Status Bind();
  // The bound port (after Bind).
  int port() const { return port_; }
  // Serves until Stop(). Bind() first.
  Status Listen();
  void Stop();

 private:
  void Install();
  Service& service_;
  HttpServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  int port_ = 0;
};

}  // namespace souk::server
