// The list of subcommands (one Register function per command file).
#pragma once

#include "app/app_context.h"

namespace souk::app {
void RegisterAllCommands(CLI::App& app, AppContext& ctx);
}  // namespace souk::app
