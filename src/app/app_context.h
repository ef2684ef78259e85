// AppContext: the options every `souk` subcommand shares (data directory,
// configuration file and overrides, logging, progress) and the loaded Config.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/progress.h"
#include "common/status.h"

namespace souk::app {

struct AppContext {
  std::string data_dir = "./souk-data";   // --data-dir
  std::string config_path;                // --config FILE (TOML)
  std::vector<std::string> overrides;     // --set section.key=value (repeatable)
  std::string log_level;                  // --log-level (overrides general.log_level)
  std::string progress;                   // --progress (overrides general.progress)
  bool json = false;                      // --json: one JSON object on stdout

  Config config;

  // Loads the configuration and sets up logging; called once before a command runs.
  Status Init();
  ProgressOptions MakeProgressOptions() const;
  // <data_dir>/souk.db
  std::string DbPath() const;
};

// Adds --data-dir/--config/--set/--json to a subcommand.
void AddCommonOptions(CLI::App* cmd, AppContext* ctx, bool with_json);

// Runs a command body: prints a clear error and sets the exit code on failure.
int Run(AppContext& ctx, const std::function<Status()>& body);

}  // namespace souk::app
