// `souk clean`: explicit cleaning rules (never applied silently). Removes the
// events of bot-like sessions/users (as `souk quality` finds them) and exact
// duplicate events, and reports what it removed; --dry-run only reports.
#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "app/app_context.h"
#include "app/store_access.h"
#include "common/clock.h"
#include "ingest/quality.h"

namespace souk::app {

void RegisterCommand_clean(CLI::App& app, AppContext& ctx) {
  auto* cmd = app.add_subcommand("clean", "remove bot-like sessions/users and exact duplicate events (explicitly)");
  AddCommonOptions(cmd, &ctx, true);
  auto opts = std::make_shared<quality::CleanOptions>();
  cmd->add_flag("--drop-bot-sessions", opts->drop_bot_sessions,
                "remove the events of bot-like sessions (quality.bot_* keys)");
  cmd->add_flag("--drop-bot-users", opts->drop_bot_users, "remove every event of bot-like users");
  cmd->add_flag("--dedupe", opts->dedupe, "keep only the first of exactly identical events");
  cmd->add_flag("--dry-run", opts->dry_run, "only report what would be removed");
  cmd->callback([&ctx, opts] {
    throw CLI::RuntimeError(Run(ctx, [&ctx, opts]() -> Status {
      ASSIGN_OR_RETURN(std::unique_ptr<store::SqliteStore> store, OpenStore(ctx, false));
      ASSIGN_OR_RETURN(int64_t max_event_id, store->MaxEventId());  // bounds the count, no scan
      Progress progress("clean: events", static_cast<uint64_t>(max_event_id), ctx.MakeProgressOptions());
      ASSIGN_OR_RETURN(quality::CleanResult result,
                       quality::Clean(*store, QualityOptionsFromConfig(ctx.config), *opts, &progress));
      if (ctx.json) {
        fmt::print("{}\n", quality::CleanResultToJson(result).dump(-1, ' ', false,
                                                                    nlohmann::json::error_handler_t::replace));
      } else {
        fmt::print("{}", quality::CleanResultToText(result));
      }
      return OkStatus();
    }));
  });
}

}  // namespace souk::app
