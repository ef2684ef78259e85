// `souk config`: print the effective configuration as documented TOML.
// `souk version`: print the version.
#include <fmt/format.h>

#include "app/app_context.h"

namespace souk::app {

void RegisterConfigCommand(CLI::App& app, AppContext& ctx) {
  auto* cmd = app.add_subcommand("config", "print the effective configuration as documented TOML");
  AddCommonOptions(cmd, &ctx, false);
  cmd->callback([&ctx] {
    throw CLI::RuntimeError(Run(ctx, [&ctx] {
      fmt::print("{}", ctx.config.ToToml(true));
      return OkStatus();
    }));
  });
}

void RegisterVersionCommand(CLI::App& app, AppContext& ctx) {
  auto* cmd = app.add_subcommand("version", "print the version");
  cmd->callback([] { fmt::print("souk 0.1.0\n"); });
}

}  // namespace souk::app
