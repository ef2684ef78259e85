// The `souk` command line: one binary, one subcommand per job.
#include <CLI/CLI.hpp>

#include "app/app_context.h"
#include "app/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"souk: self-hosted search and recommendation engine for online stores"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "help for every command");
  souk::app::AppContext ctx;
  souk::app::RegisterAllCommands(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
