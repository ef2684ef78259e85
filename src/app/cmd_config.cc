// `souk config`: print the effective configuration as documented TOML.
#include <fmt/format.h>

#include "app/app_context.h"

namespace souk::app {

void RegisterCommand_config(CLI::App& app, AppContext& ctx) {
  auto* cmd = app.add_subcommand("config", "print the effective configuration as documented TOML");
  AddCommonOptions(cmd, &ctx, false);
  cmd->callback([&ctx] {
    throw CLI::RuntimeError(Run(ctx, [&ctx] {
      fmt::print("{}", ctx.config.ToToml(true));
      return OkStatus();
    }));
  });
}


}  // namespace souk::app
