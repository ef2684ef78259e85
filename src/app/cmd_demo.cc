// `souk demo`: the first thing a new user runs. Generates a bilingual synthetic
// store, imports it, checks its quality and says where to look next. The demo is
// a list of named stages so later capabilities (train, serve, console) add a
// stage instead of rewriting the command.
#include <fmt/format.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "app/app_context.h"
#include "app/store_access.h"
#include "common/clock.h"
#include "ingest/generator.h"
#include "ingest/quality.h"

namespace souk::app {
namespace {

struct DemoState {
  AppContext* ctx = nullptr;
  gen::GeneratorSummary generated;
  std::unique_ptr<store::SqliteStore> store;
  nlohmann::json report = nlohmann::json::object();
};

struct DemoStage {
  std::string name;
  std::string title;
  std::function<Status(DemoState&)> run;
};

std::vector<DemoStage> DemoStages(int64_t items, int64_t users, int days) {
  std::vector<DemoStage> stages;
  stages.push_back({"generate", "Generating a bilingual (English + Chinese) store", [=](DemoState& st) -> Status {
    gen::GeneratorOptions o;
    o.items = items;
    o.users = users;
    o.days = days;
    o.seed = static_cast<uint64_t>(st.ctx->config.GetInt("generate.seed"));
    o.languages = {"en", "zh"};
    o.out_dir = (std::filesystem::path(st.ctx->data_dir) / "generated").string();
    o.progress = st.ctx->MakeProgressOptions();
    ASSIGN_OR_RETURN(st.generated, gen::GenerateStore(o));
    fmt::print("  {} items, {} users, {} sessions, {} events ({} held out as ground truth) in {}\n",
               st.generated.items, st.generated.users, st.generated.sessions, st.generated.events,
               st.generated.events_holdout, st.generated.out_dir);
    st.report["generate"] = gen::SummaryToJson(st.generated);
    return OkStatus();
  }});
  stages.push_back({"import", "Importing it with validation", [](DemoState& st) -> Status {
    ASSIGN_OR_RETURN(st.store, OpenStore(*st.ctx, true));
    ASSIGN_OR_RETURN(auto s, RunImport(*st.ctx, st.store.get(), "souk", {st.generated.out_dir}, {}));
    std::string text = s.ToText();
    for (size_t p = 0; (p = text.find('\n', p)) != std::string::npos && p + 1 < text.size(); p += 3) text.insert(p + 1, "  ");
    fmt::print("  {}", text);
    st.report["import"] = s.ToJson();
    return OkStatus();
  }});
  stages.push_back({"quality", "Checking data quality", [](DemoState& st) -> Status {
    ASSIGN_OR_RETURN(auto snap, st.store->OpenSnapshot());
    const quality::QualityOptions qo = QualityOptionsFromConfig(st.ctx->config);
    ASSIGN_OR_RETURN(quality::QualityReport r, quality::ComputeQuality(*snap, *st.store, qo, nullptr));
    const auto dir = std::filesystem::path(st.ctx->data_dir) / "reports";
    const nlohmann::json j = quality::QualityReportToJson(r);
    const std::string text = quality::QualityReportToText(r);
    RETURN_IF_ERROR(WriteTextFile(dir / "quality.json", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"));
    RETURN_IF_ERROR(WriteTextFile(dir / "quality.txt", text));
    fmt::print("{}", text);
    st.report["quality"] = j;
    return OkStatus();
  }});
  return stages;
}

}  // namespace

void RegisterCommand_demo(CLI::App& app, AppContext& ctx) {
  auto* cmd = app.add_subcommand("demo", "generate a bilingual demo store, import it, check its quality");
  AddCommonOptions(cmd, &ctx, true);
  auto items = std::make_shared<int64_t>(5000);
  auto users = std::make_shared<int64_t>(2000);
  auto days = std::make_shared<int>(60);
  cmd->add_option("--items", *items, "demo catalog size")->capture_default_str();
  cmd->add_option("--users", *users, "demo shoppers")->capture_default_str();
  cmd->add_option("--days", *days, "demo days of behavior")->capture_default_str();
  cmd->callback([&ctx, items, users, days] {
    throw CLI::RuntimeError(Run(ctx, [&]() -> Status {
      const int64_t t0 = RealClock().MonotonicMicros();
      std::error_code ec;
      // A fresh store each time: the demo shows a first import, not a re-import.
      std::filesystem::remove(ctx.DbPath(), ec);
      std::filesystem::remove(ctx.DbPath() + "-wal", ec);
      std::filesystem::remove(ctx.DbPath() + "-shm", ec);
      DemoState st;
      st.ctx = &ctx;
      auto stages = DemoStages(*items, *users, *days);
      for (size_t i = 0; i < stages.size(); ++i) {
        fmt::print("\n[{}/{}] {}\n", i + 1, stages.size(), stages[i].title);
        std::fflush(stdout);
        Status s = stages[i].run(st);
        if (!s.ok()) return s.WithContext("demo stage '" + stages[i].name + "'");
      }
      const double secs = (RealClock().MonotonicMicros() - t0) / 1e6;
      fmt::print(
          "\nDone in {:.1f}s. Where to look next:\n"
          "  {}/souk.db                     the store (SQLite: items, events, quarantine, ...)\n"
          "  {}/reports/quality.txt         the full data-quality report (quality.json for machines)\n"
          "  {}/generated/ground_truth/     what the generator knows (future purchases, bots, complements)\n"
          "  souk quality --data-dir {}     re-check quality; add --fail-on to gate a pipeline\n"
          "  souk import --list-formats       import your own catalog and events\n",
          secs, ctx.data_dir, ctx.data_dir, ctx.data_dir, ctx.data_dir);
      return OkStatus();
    }));
  });
}

}  // namespace souk::app
