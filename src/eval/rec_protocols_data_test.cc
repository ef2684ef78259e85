// Protocols C and F on the shared datasets with the built-in sources (slow;
// skipped when the data is missing). Prints each report as JSON on stdout.
#include <fmt/format.h>

#include <cstdio>

#include "common/testing.h"
#include "eval/rec_protocols.h"

namespace souk::eval {
namespace {

StatusOr<EvalReport> RunRec(const std::string& name, const EvalInputs& inputs) {
  ProtocolRegistry registry;
  RETURN_IF_ERROR(AddRecProtocols(registry));
  ASSIGN_OR_RETURN(EvalProtocol * protocol, registry.Find("rec", name));
  EvalContext ctx;
  ctx.task = "rec";
  ctx.inputs = inputs;
  ctx.progress.mode = ProgressMode::kLines;
  ctx.progress.line_interval_s = 30;
  return RunProtocol(*protocol, ctx);
}

TEST(RecProtocolsDataTest, AmazonScientificUnisrec) {
  SOUK_REQUIRE_DATA(dir, "amazon-scientific/Scientific.train.inter");
  EvalInputs inputs;
  inputs.dir = dir.parent_path().string();
  ASSERT_OK_AND_ASSIGN(EvalReport report, RunRec("amazon-unisrec", inputs));
  fmt::print("{}\n", ReportToJson(report, true).dump());
  EXPECT_GT(report.metrics["n_cold"], 100);
  EXPECT_LT(report.metrics["n_cold"], 600);
  // The blend beats popularity overall, and content makes cold items rankable.
  EXPECT_GT(report.metrics["recall@10"], report.ablations["popularity"]["recall@10"]);
  EXPECT_GT(report.metrics["cold_recall@10"], report.ablations["popularity"]["cold_recall@10"]);
  // The engine is the blend with cold slots: cold items reach the top without
  // costing overall recall@50 (the additive cold terms lose some of it).
  EXPECT_EQ(report.extra["engine"], "blend_cold_slots");
  EXPECT_GE(report.metrics["recall@50"],
            0.98 * report.ablations["blend_no_cold_terms"]["recall@50"]);
  EXPECT_GT(report.metrics["cold_recall@10"], report.ablations["blend"]["cold_recall@10"]);
}

TEST(RecProtocolsDataTest, OnlineRetailDevCutoff) {
  SOUK_REQUIRE_DATA(file, "online-retail/online_retail_2010-12_2011-09.csv");
  EvalInputs inputs;
  inputs.data = {file.string()};
  inputs.cutoff = "2011-09-01";
  ASSERT_OK_AND_ASSIGN(EvalReport report, RunRec("online-retail", inputs));
  fmt::print("{}\n", ReportToJson(report, true).dump());
  EXPECT_GT(report.metrics["n_customers"], 1000);
  EXPECT_GT(report.metrics["recall@20"], report.ablations["popular_30d"]["recall@20"]);
  // The learned ranker is the engine and beats the customer's own most bought.
  EXPECT_EQ(report.extra["engine"], "ranker");
  EXPECT_GT(report.metrics["recall@20"], report.ablations["own_most_bought"]["recall@20"]);
  EXPECT_GT(report.metrics["propensity_roc_auc"], 0.6);
}

}  // namespace
}  // namespace souk::eval
