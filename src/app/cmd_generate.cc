// `souk generate`: write a synthetic store (catalog, users, events, ground truth)
// in the souk import format; see docs/formats/souk-import.md.
#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "app/app_context.h"
#include "ingest/generator.h"

namespace souk::app {

void RegisterCommand_generate(CLI::App& app, AppContext& ctx) {
  auto* cmd = app.add_subcommand(
      "generate", "generate a synthetic store (items, users, events, ground truth)");
  AddCommonOptions(cmd, &ctx, true);
  auto opts = std::make_shared<gen::GeneratorOptions>();
  auto lang = std::make_shared<std::string>("en");
  cmd->add_option("--items", opts->items, "number of items")->capture_default_str();
  cmd->add_option("--users", opts->users, "number of users")->capture_default_str();
  cmd->add_option("--days", opts->days, "simulated days")->capture_default_str();
  cmd->add_option("--seed", opts->seed, "random seed (same seed => same files)")
      ->capture_default_str();
  cmd->add_option("--lang", *lang, "languages: en, zh or en,zh")->capture_default_str();
  cmd->add_option("--out", opts->out_dir, "output directory (default <data-dir>/generated)");
  cmd->add_option("--events-target", opts->events_target,
                  "scale sessions so that about this many events are written (0 = off)");
  cmd->add_option("--holdout-days", opts->holdout_days,
                  "last days kept out of events.csv as ground truth")
      ->capture_default_str();
  cmd->add_option("--sessions-per-user-day", opts->sessions_per_user_day,
                  "mean sessions per user and day (without --events-target)")
      ->capture_default_str();
  cmd->callback([&ctx, opts, lang] {
    throw CLI::RuntimeError(Run(ctx, [&ctx, opts, lang]() -> Status {
      gen::GeneratorOptions o = *opts;
      ASSIGN_OR_RETURN(o.languages, gen::ParseLanguages(*lang));
      if (o.out_dir.empty()) o.out_dir = (std::filesystem::path(ctx.data_dir) / "generated").string();
      o.progress = ctx.MakeProgressOptions();
      ASSIGN_OR_RETURN(gen::GeneratorSummary s, gen::GenerateStore(o));
      if (ctx.json) {
        fmt::print("{}\n", gen::SummaryToJson(s).dump());
      } else {
        fmt::print(
            "generated store in {} ({:.1f} s)\n"
            "  items     {}\n  users     {} ({} bots)\n  sessions  {}\n"
            "  events    {} ({} in events.csv, {} held out after {})\n"
            "  purchases {} ({} held out in ground_truth/future_purchases.csv)\n"
            "  ground truth: {} complement pairs, {} price outliers in {}/ground_truth\n",
            s.out_dir, s.seconds, s.items, s.users, s.bots, s.sessions, s.events,
            s.events_train, s.events_holdout, s.cutoff, s.purchases, s.future_purchases,
            s.complement_pairs, s.price_outliers, s.out_dir);
      }
      return OkStatus();
    }));
  });
}

}  // namespace souk::app
