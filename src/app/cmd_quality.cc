// `souk quality`: the data-quality report of the store, with optional gates.
// Prints the text report (or one JSON object with --json), writes
// <data-dir>/reports/quality.json and quality.txt, and exits with 3 when a
// --fail-on condition holds. Figures are defined in docs/quality.md.
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/app_context.h"
#include "app/store_access.h"
#include "common/clock.h"
#include "ingest/quality.h"

namespace souk::app {

namespace {

struct QualityCommandOptions {
  std::vector<std::string> fail_on;  // comma-separated conditions, repeatable
  std::string out;                   // also write what is printed to this file
};

}  // namespace

void RegisterCommand_quality(CLI::App& app, AppContext& ctx) {
  auto* cmd = app.add_subcommand("quality", "data-quality report of the store (see docs/quality.md)");
  AddCommonOptions(cmd, &ctx, true);
  auto opts = std::make_shared<QualityCommandOptions>();
  cmd->add_option("--fail-on", opts->fail_on,
                  "exit 3 when a condition holds, e.g. \"bot_user_share>0.01,gini>0.95\" (repeatable; "
                  "metric names in docs/quality.md)");
  cmd->add_option("--out", opts->out, "also write the printed report (text, or JSON with --json) to FILE");
  cmd->callback([&ctx, opts] {
    bool violated = false;
    int code = Run(ctx, [&ctx, opts, &violated]() -> Status {
      std::vector<quality::MetricCondition> conditions;
      for (const auto& expr : opts->fail_on) {
        ASSIGN_OR_RETURN(auto parsed, quality::ParseFailOn(expr));
        conditions.insert(conditions.end(), parsed.begin(), parsed.end());
      }
      const quality::QualityOptions qo = QualityOptionsFromConfig(ctx.config);
      ASSIGN_OR_RETURN(std::unique_ptr<store::SqliteStore> store, OpenStore(ctx, false));
      ASSIGN_OR_RETURN(std::unique_ptr<store::Snapshot> snapshot, store->OpenSnapshot());
      // The watermark (largest event id) bounds the event count without a counting scan;
      // ComputeQuality computes the statistics it reports itself.
      Progress progress("quality: events", static_cast<uint64_t>(snapshot->watermark()), ctx.MakeProgressOptions());
      ASSIGN_OR_RETURN(quality::QualityReport report, quality::ComputeQuality(*snapshot, *store, qo, &progress));
      snapshot.reset();

      const auto results = quality::EvaluateConditions(conditions, report.metrics);
      nlohmann::json json = quality::QualityReportToJson(report);
      nlohmann::json gates = nlohmann::json::array();
      std::string gate_text;
      for (const auto& r : results) {
        violated = violated || r.violated;
        gates.push_back({{"condition", r.condition.text},
                         {"metric", r.condition.metric},
                         {"value", r.not_available ? nlohmann::json(nullptr) : nlohmann::json(r.value)},
                         {"threshold", r.condition.threshold},
                         {"violated", r.violated},
                         {"message", r.message}});
        gate_text += fmt::format("  {}\n", r.message);
      }
      json["fail_on"] = gates;
      json["passed"] = !violated;
      const std::string text = quality::QualityReportToText(report) +
                               (results.empty() ? "" : "\n== Gates (--fail-on) ==\n" + gate_text);
      const std::string json_text = json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);

      const std::filesystem::path reports = std::filesystem::path(ctx.data_dir) / "reports";
      RETURN_IF_ERROR(WriteTextFile(reports / "quality.json", json_text + "\n"));
      RETURN_IF_ERROR(WriteTextFile(reports / "quality.txt", text));
      const std::string& printed = ctx.json ? json_text + "\n" : text;
      if (!opts->out.empty()) RETURN_IF_ERROR(WriteTextFile(opts->out, printed));
      fmt::print("{}", printed);
      for (const auto& r : results) {
        if (r.violated) fmt::print(stderr, "souk: quality gate failed: {}\n", r.message);
      }
      return OkStatus();
    });
    if (code == 0 && violated) code = 3;
    throw CLI::RuntimeError(code);
  });
}

}  // namespace souk::app
