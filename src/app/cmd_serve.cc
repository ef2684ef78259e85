// `souk serve [--port N] [--host H] [--threads N]`: the HTTP API (routes under
// /v1, see docs/openapi.json and docs/api.md) over the data directory: search,
// autocomplete, recommendations, intent, items and events ingestion, A/B
// experiments, background training with hot swap, /metrics and /healthz.
// Keys: `souk keys create --scope admin|ingest|search`. Stops cleanly on
// SIGINT / SIGTERM (the session state is checkpointed).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "app/app_context.h"
#include "app/commands.h"
#include "server/http_server.h"
#include "server/service.h"

namespace souk::app {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

struct ServeArgs {
  int port = -1;
  std::string host;
  int threads = -1;
  std::string port_file;
};

}  // namespace

// Runs the server until SIGINT/SIGTERM. Shared with `souk demo`.
Status ServeForever(AppContext& ctx, const std::string& host, int port, int threads, const std::string& port_file,
                    const std::string& banner) {
  ASSIGN_OR_RETURN(server::ServiceOptions so, server::ServiceOptionsFrom(ctx.config));
  spdlog::info("opening {} ...", ctx.data_dir);
  ASSIGN_OR_RETURN(auto service, server::Service::Open(ctx, so));
  server::HttpServerOptions ho;
  ho.host = host.empty() ? ctx.config.GetString("server.host") : host;
  ho.port = port >= 0 ? port : static_cast<int>(ctx.config.GetInt("server.port"));
  ho.threads = threads > 0 ? threads : static_cast<int>(ctx.config.GetInt("server.threads"));
  ho.tls_cert = ctx.config.GetString("server.tls_cert");
  ho.tls_key = ctx.config.GetString("server.tls_key");
  ho.console_dir = ctx.config.GetString("server.console_dir");
  server::HttpServer http(*service, ho);
  RETURN_IF_ERROR(http.Bind());
  const std::string scheme = ho.tls_cert.empty() ? "http" : "https";
  fmt::print("souk serving {} on {}://{}:{}  (API /v1, health /healthz, metrics /metrics)\n", ctx.data_dir, scheme,
             ho.host, http.port());
  if (!banner.empty()) fmt::print("{}", banner);
  std::fflush(stdout);
  if (!port_file.empty()) {
    FILE* f = std::fopen(port_file.c_str(), "w");
    if (f != nullptr) {
      std::fprintf(f, "%d\n", http.port());
      std::fclose(f);
    }
  }
  g_stop = false;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::thread watcher([&] {
    while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    http.Stop();
  });
  Status st = http.Listen();
  g_stop = true;
  watcher.join();
  spdlog::info("server stopped");
  return st;
}

void RegisterCommand_serve(CLI::App& app, AppContext& ctx) {
  auto args = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand("serve", "serve the HTTP API (and later the console) from the data directory");
  AddCommonOptions(cmd, &ctx, false);
  cmd->add_option("--port", args->port, "port (default server.port = 8080; 0 = any free port)");
  cmd->add_option("--host", args->host, "address to listen on (default server.host = 127.0.0.1)");
  cmd->add_option("--threads", args->threads, "worker threads (default server.threads)");
  cmd->add_option("--port-file", args->port_file, "write the bound port to this file (scripts, tests)");
  cmd->callback([&ctx, args] {
    throw CLI::RuntimeError(Run(ctx, [&] {
      return ServeForever(ctx, args->host, args->port, args->threads, args->port_file, "");
    }));
  });
}

}  // namespace souk::app
