// `souk version`: print the version.
#include <fmt/format.h>

#include "app/app_context.h"

namespace souk::app {

void RegisterCommand_version(CLI::App& app, AppContext& ctx) {
  auto* cmd = app.add_subcommand("version", "print the version");
  cmd->callback([] { fmt::print("souk 0.1.0\n"); });
}

}  // namespace souk::app
