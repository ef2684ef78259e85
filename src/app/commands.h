// The list of subcommands (one Register function per command file).
#pragma once

#include "app/app_context.h"

namespace souk::app {
void RegisterAllCommands(CLI::App& app, AppContext& ctx);

// Serves the HTTP API of ctx.data_dir until SIGINT/SIGTERM (cmd_serve.cc; also
// the end of `souk demo`). host "" / port < 0 / threads <= 0 = the server.* keys;
// `banner` is printed once the socket is bound.
Status ServeForever(AppContext& ctx, const std::string& host, int port, int threads,
                    const std::string& port_file, const std::string& banner);
}  // namespace souk::app
