#include "app/commands.h"

namespace souk::app {

void RegisterAllCommands(CLI::App& app, AppContext& ctx) {
  RegisterConfigCommand(app, ctx);
  RegisterVersionCommand(app, ctx);
}

}  // namespace souk::app
