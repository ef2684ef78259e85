#include "eval/protocol.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/testing.h"

namespace souk::eval {
namespace {

// A protocol used only by these tests: advances a fake clock and returns fixed
// metrics, so the frame's bookkeeping can be checked.
class FakeProtocol final : public EvalProtocol {
 public:
  FakeProtocol(std::string task, std::string name, FakeClock* clock = nullptr)
      : task_(std::move(task)), name_(std::move(name)), clock_(clock) {}
  std::string Name() const override { return name_; }
  std::string Task() const override { return task_; }
  std::string Description() const override { return "test"; }
  StatusOr<EvalReport> Run(const EvalContext& ctx) override {
    if (clock_ != nullptr) clock_->Advance(1'500'000);
    EvalReport r;
    r.dataset = "tiny";
    r.metrics = {{"b", 0.25}, {"a", 2}};
    r.ablations["base"] = {{"a", 1}};
    return r;
  }

 private:
  std::string task_, name_;
  FakeClock* clock_;
};

TEST(ProtocolRegistryTest, RegisterFindAndErrors) {
  ProtocolRegistry registry;
  ASSERT_OK(registry.Register(std::make_unique<FakeProtocol>("rec", "one")));
  ASSERT_OK(registry.DeclarePlanned("rec", "later", "issue X"));
  EXPECT_EQ(registry.Register(std::make_unique<FakeProtocol>("rec", "one")).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.Register(std::make_unique<FakeProtocol>("cooking", "x")).code(),
            StatusCode::kInvalidArgument);

  auto found = registry.Find("rec", "one");
  ASSERT_OK(found);
  EXPECT_EQ((*found)->Name(), "one");

  auto planned = registry.Find("rec", "later");
  EXPECT_EQ(planned.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(planned.status().message().find(
                "protocol later is not available in this build yet (see issue X)"),
            std::string::npos);

  auto unknown = registry.Find("rec", "nope");
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("'nope'"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("one, later (planned)"), std::string::npos);

  // The same name under another task is unknown there.
  EXPECT_EQ(registry.Find("search", "one").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry.Find("rec", "").status().code(), StatusCode::kInvalidArgument);

  EXPECT_EQ(registry.DefaultProtocol("rec"), "");  // two known names
  ASSERT_OK(registry.DeclarePlanned("ner", "only", "issue Y"));
  EXPECT_EQ(registry.DefaultProtocol("ner"), "only");
  EXPECT_EQ(registry.DefaultProtocol("intent"), "");

  // Implementing a planned protocol replaces the declaration.
  ASSERT_OK(registry.Register(std::make_unique<FakeProtocol>("rec", "later")));
  EXPECT_OK(registry.Find("rec", "later"));
  EXPECT_EQ(registry.ProtocolsOf("rec").size(), 2u);
}

TEST(RunProtocolTest, SetsNameTaskAndSeconds) {
  FakeClock clock;
  FakeProtocol protocol("intent", "fake", &clock);
  EvalContext ctx;
  ctx.clock = &clock;
  auto report = RunProtocol(protocol, ctx);
  ASSERT_OK(report);
  EXPECT_EQ(report->protocol, "fake");
  EXPECT_EQ(report->task, "intent");
  EXPECT_DOUBLE_EQ(report->seconds, 1.5);
}

TEST(ReportJsonTest, ContractKeysOnly) {
  EvalReport r;
  r.protocol = "amazon-seq";
  r.task = "rec";
  r.dataset = "Beauty";
  r.metrics = {{"ndcg@10", 0.5}, {"n_users", 3}, {"undefined", NAN}};
  r.ablations["popularity"] = {{"ndcg@10", 0.25}};
  r.seconds = 1.25;
  r.extra = {{"curve", {1, 2, 3}}};
  const nlohmann::json j = ReportToJson(r, false);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys,
            (std::vector<std::string>{"ablations", "dataset", "metrics", "protocol", "seconds"}));
  EXPECT_EQ(j["protocol"], "amazon-seq");
  EXPECT_EQ(j["dataset"], "Beauty");
  EXPECT_DOUBLE_EQ(j["metrics"]["ndcg@10"].get<double>(), 0.5);
  EXPECT_TRUE(j["metrics"]["undefined"].is_null());
  EXPECT_TRUE(j["metrics"]["n_users"].is_number_integer());
  EXPECT_EQ(j["metrics"]["n_users"].get<int64_t>(), 3);
  EXPECT_EQ(j.dump().find("3.0"), std::string::npos);
  EXPECT_DOUBLE_EQ(j["ablations"]["popularity"]["ndcg@10"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(j["seconds"].get<double>(), 1.25);

  const nlohmann::json full = ReportToJson(r, true);
  EXPECT_EQ(full["task"], "rec");
  EXPECT_EQ(full["extra"]["curve"].size(), 3u);
  // Empty ablations are still an object.
  EvalReport empty;
  EXPECT_TRUE(ReportToJson(empty, false)["ablations"].is_object());
}

TEST(ReportTableTest, ShowsEveryVariantAndMetric) {
  EvalReport r;
  r.protocol = "p";
  r.task = "rec";
  r.dataset = "d";
  r.metrics = {{"hr@10", 0.123456}, {"n_users", 42}, {"ndcg@10", 0.005456137}};
  r.ablations["popularity"] = {{"hr@10", 0.5}};
  const std::string table = FormatReportTable(r);
  EXPECT_NE(table.find("hr@10"), std::string::npos);
  EXPECT_NE(table.find("0.1235"), std::string::npos);
  EXPECT_NE(table.find("42"), std::string::npos);
  EXPECT_NE(table.find("popularity"), std::string::npos);
  EXPECT_NE(table.find("0.5000"), std::string::npos);
  EXPECT_NE(table.find("0.005456"), std::string::npos);  // 4 significant digits
}

TEST(SaveReportTest, WritesUnderReportsWithUtcStamp) {
  const auto dir = souk::testing::TempDir("eval_save");
  EvalReport r;
  r.protocol = "amazon-seq";
  r.dataset = "Beauty";
  r.metrics = {{"ndcg@10", 0.0055}};
  // 1'700'000'000 s = 2023-11-14T22:13:20Z.
  const int64_t now = int64_t{1'700'000'000} * 1'000'000;
  auto path = SaveReport(r, (dir / "data").string(), now);
  ASSERT_OK(path);
  EXPECT_EQ(std::filesystem::path(*path),
            dir / "data" / "reports" / "eval-amazon-seq-20231114T221320Z.json");
  std::ifstream in(*path);
  std::stringstream text;
  text << in.rdbuf();
  const auto j = nlohmann::json::parse(text.str());
  EXPECT_DOUBLE_EQ(j["metrics"]["ndcg@10"].get<double>(), 0.0055);
  // A second report in the same second does not overwrite the first.
  auto second = SaveReport(r, (dir / "data").string(), now);
  ASSERT_OK(second);
  EXPECT_EQ(std::filesystem::path(*second).filename(), "eval-amazon-seq-20231114T221320Z-2.json");
}

TEST(RequireInputPathTest, NamesFlagAndPath) {
  const auto dir = souk::testing::TempDir("eval_inputs");
  Status empty = RequireInputPath("--data", "", "amazon-seq");
  EXPECT_EQ(empty.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(empty.message().find("--data is required for protocol amazon-seq"), std::string::npos);
  const std::string missing = (dir / "nope.txt").string();
  Status nf = RequireInputPath("--data", missing, "amazon-seq");
  EXPECT_EQ(nf.code(), StatusCode::kNotFound);
  EXPECT_NE(nf.message().find("--data"), std::string::npos);
  EXPECT_NE(nf.message().find(missing), std::string::npos);
  EXPECT_EQ(RequireInputPath("--data", dir.string(), "p").code(), StatusCode::kInvalidArgument);
  EXPECT_OK(RequireInputPath("--dir", dir.string(), "p", /*want_dir=*/true));
  std::ofstream(dir / "f.txt") << "x";
  EXPECT_OK(RequireInputPath("--data", (dir / "f.txt").string(), "p"));
  EXPECT_EQ(DatasetName("/a/b/Beauty.txt"), "Beauty");
}

}  // namespace
}  // namespace souk::eval
