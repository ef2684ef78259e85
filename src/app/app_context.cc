#include "app/app_context.h"

#include <filesystem>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/logging.h"

namespace souk::app {

Status AppContext::Init() {
  ASSIGN_OR_RETURN(config, Config::Load(config_path, overrides));
  if (!log_level.empty()) RETURN_IF_ERROR(config.Set("general.log_level", log_level));
  if (!progress.empty()) RETURN_IF_ERROR(config.Set("general.progress", progress));
  ProgressMode mode;
  if (!ParseProgressMode(config.GetString("general.progress"), &mode)) {
    return InvalidArgumentError("general.progress must be auto, bar, lines or off, got '" +
                                config.GetString("general.progress") + "'");
  }
  return InitLogging(config.GetString("general.log_level"));
}

ProgressOptions AppContext::MakeProgressOptions() const {
  ProgressOptions o;
  ParseProgressMode(config.GetString("general.progress"), &o.mode);
  return o;
}

std::string AppContext::DbPath() const { return (std::filesystem::path(data_dir) / "souk.db").string(); }

void AddCommonOptions(CLI::App* cmd, AppContext* ctx, bool with_json) {
  cmd->add_option("--data-dir", ctx->data_dir, "data directory")->capture_default_str();
  cmd->add_option("--config", ctx->config_path, "TOML configuration file (see `souk config`)");
  cmd->add_option("--set", ctx->overrides, "override a config key: section.key=value (repeatable)");
  cmd->add_option("--log-level", ctx->log_level, "trace, debug, info, warn, error, off");
  cmd->add_option("--progress", ctx->progress, "auto, bar, lines, off");
  if (with_json) cmd->add_flag("--json", ctx->json, "print one JSON object on stdout");
}

int Run(AppContext& ctx, const std::function<Status()>& body) {
  Status s = ctx.Init();
  if (s.ok()) s = body();
  if (s.ok()) return 0;
  fmt::print(stderr, "souk: error: {}\n", s.ToString());
  return s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kNotFound ? 2 : 1;
}

}  // namespace souk::app
