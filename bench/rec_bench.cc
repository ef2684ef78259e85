// souk_rec_bench: latency of `home` recommendations (every source of the
// scenario, the learned ranker, the rerankers, reasons) at Amazon Beauty scale
// (22,363 users, 12,101 items, 198,502 interactions; reviews as purchases), one
// thread, after warm-up.
//
//   build/bench/souk_rec_bench [--data PATH/Beauty.txt] [--requests 2000]
//       [--warmup 200] [--n 10] [--model DIR] [--sasrec] [--pipeline FILE] [--json]
//
// The first run fits the pipeline (a few minutes on 2 cores; SASRec only with
// --sasrec) and, with --model DIR, saves it there; later runs load it. Items get
// their attribute ids as text ("a12 a7 a3") and the first one as category, so
// the content source, MMR and the category features have something to use.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "recommend/recommender.h"

namespace {

using namespace souk;
using namespace souk::recommend;
namespace fs = std::filesystem;

StatusOr<std::shared_ptr<InteractionData>> LoadBeauty(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError(fmt::format("'{}' does not exist", path));
  // Attributes (optional): item -> attribute ids.
  nlohmann::json attrs;
  const fs::path attr_path = fs::path(path).parent_path() / "Beauty_item2attributes.json";
  if (std::ifstream a(attr_path); a) attrs = nlohmann::json::parse(a, nullptr, false);
  auto data = std::make_shared<InteractionData>();
  std::vector<std::vector<int64_t>> lines;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<int64_t> v;
    int64_t x;
    while (ls >> x) v.push_back(x);
    if (v.size() >= 2) lines.push_back(std::move(v));
  }
  std::unordered_map<int64_t, int32_t> item_of;
  for (const auto& v : lines) {
    for (size_t k = 1; k < v.size(); ++k) {
      if (item_of.count(v[k])) continue;
      ItemInfo info;
      info.external_id = std::to_string(v[k]);
      info.title = "item " + info.external_id;
      if (attrs.is_object() && attrs.contains(info.external_id)) {
        std::string text;
        for (const auto& a : attrs[info.external_id]) text += (text.empty() ? "a" : " a") + a.dump();
        info.text = text;
        if (!attrs[info.external_id].empty()) info.category = "a" + attrs[info.external_id][0].dump();
      }
      item_of.emplace(v[k], data->AddItem(std::move(info)));
    }
  }
  // Positions become hours; users are interleaved so a time split cuts every history.
  for (size_t u = 0; u < lines.size(); ++u) {
    const int32_t user = data->AddUser(std::to_string(lines[u][0]));
    for (size_t k = 1; k < lines[u].size(); ++k) {
      RETURN_IF_ERROR(data->Add({.user = user, .item = item_of[lines[u][k]], .type = EventType::kPurchase,
                                 .timestamp_ms = static_cast<int64_t>(k) * 3600000 + static_cast<int64_t>(u)}));
    }
  }
  data->Finalize();
  return data;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

int Main(int argc, char** argv) {
  CLI::App app("souk_rec_bench: latency of home recommendations at Amazon Beauty scale");
  std::string data_path = std::string(SOUK_REC_BENCH_SHARED_DIR) + "/data/amazon-beauty/Beauty.txt";
  std::string model_dir, pipeline_file;
  int requests = 2000, warmup = 200, n = 10;
  bool sasrec = false, json = false;
  app.add_option("--data", data_path, "Beauty.txt (S3-Rec sequences)");
  app.add_option("--requests", requests, "timed requests")->capture_default_str();
  app.add_option("--warmup", warmup, "untimed requests first")->capture_default_str();
  app.add_option("--n", n, "items per request")->capture_default_str();
  app.add_option("--model", model_dir, "model folder: loaded when present, else fitted and saved there");
  app.add_option("--pipeline", pipeline_file, "pipeline configuration merged over the defaults");
  app.add_flag("--sasrec", sasrec, "keep the SASRec source (libtorch training takes minutes)");
  app.add_flag("--json", json, "one JSON object on stdout");
  CLI11_PARSE(app, argc, argv);

  SourceRegistry sources;
  RerankerRegistry rerankers;
  Status st = RegisterAllSources(sources);
  if (st.ok()) st = RegisterBuiltinRerankers(rerankers);
  if (!st.ok()) {
    fmt::print(stderr, "souk_rec_bench: {}\n", st.ToString());
    return 1;
  }
  const RecommenderDeps deps{&sources, &rerankers, nullptr};
  std::unique_ptr<Recommender> rec;
  double fit_s = 0;
  const auto t0 = std::chrono::steady_clock::now();
  if (!model_dir.empty() && fs::exists(fs::path(model_dir) / "manifest.json")) {
    auto loaded = Recommender::Load(model_dir, deps);
    if (!loaded.ok()) {
      fmt::print(stderr, "souk_rec_bench: {}\n", loaded.status().ToString());
      return 1;
    }
    rec = std::move(*loaded);
  } else {
    auto data = LoadBeauty(data_path);
    if (!data.ok()) {
      fmt::print(stderr, "souk_rec_bench: {}\n", data.status().ToString());
      return 1;
    }
    PipelineConfig config = DefaultPipelineConfig();
    if (!pipeline_file.empty()) {
      auto c = LoadPipelineConfigFile(pipeline_file, config);
      if (!c.ok()) {
        fmt::print(stderr, "souk_rec_bench: {}\n", c.status().ToString());
        return 1;
      }
      config = std::move(*c);
    }
    // Reviews count as purchases; sources that cannot fit this data (e.g. fbt
    // without baskets) are skipped rather than failing the benchmark.
    for (auto& [name, s] : config.scenarios) {
      for (auto* list : {&s.sources, &s.cold_sources}) {
        for (SourceSpec& x : *list) x.optional = true;
      }
    }
    if (!sasrec) {
      for (auto& [name, s] : config.scenarios) {
        for (auto* list : {&s.sources, &s.cold_sources}) {
          std::erase_if(*list, [](const SourceSpec& x) { return x.name == "sasrec"; });
        }
      }
    }
    ProgressOptions po;
    po.mode = json ? ProgressMode::kOff : ProgressMode::kLines;
    auto fitted = Recommender::Fit(*data, config, deps, &po);
    if (!fitted.ok()) {
      fmt::print(stderr, "souk_rec_bench: {}\n", fitted.status().ToString());
      return 1;
    }
    rec = std::move(*fitted);
    if (!model_dir.empty()) {
      if (Status s = rec->Save(model_dir); !s.ok()) fmt::print(stderr, "souk_rec_bench: {}\n", s.ToString());
    }
  }
  fit_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const InteractionData& data = rec->data();
  std::mt19937_64 rng(17);
  std::vector<double> ms;
  ms.reserve(requests);
  size_t items_out = 0;
  for (int r = 0; r < warmup + requests; ++r) {
    const int32_t user = static_cast<int32_t>(rng() % static_cast<uint64_t>(data.num_users()));
    RecommendRequest req{.scenario = "home", .user = user, .n = n};
    req.history = HistoryOf(data, user);  // as `souk recommend` passes the live history
    const auto a = std::chrono::steady_clock::now();
    auto result = rec->Recommend(req);
    const double t = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count();
    if (!result.ok()) {
      fmt::print(stderr, "souk_rec_bench: {}\n", result.status().ToString());
      return 1;
    }
    if (r >= warmup) {
      ms.push_back(t);
      items_out += result->items.size();
    }
  }
  nlohmann::json out = {{"dataset", "amazon-beauty"},
                        {"users", data.num_users()},
                        {"items", data.num_items()},
                        {"interactions", data.interactions().size()},
                        {"sources", rec->source_ids()},
                        {"ranker", rec->has_ranker("home")},
                        {"requests", requests},
                        {"n", n},
                        {"mean_items", requests ? static_cast<double>(items_out) / requests : 0.0},
                        {"fit_or_load_s", fit_s},
                        {"p50_ms", Percentile(ms, 0.50)},
                        {"p95_ms", Percentile(ms, 0.95)},
                        {"p99_ms", Percentile(ms, 0.99)},
                        {"max_ms", ms.empty() ? 0.0 : *std::max_element(ms.begin(), ms.end())}};
  if (json) {
    fmt::print("{}\n", out.dump());
  } else {
    fmt::print("home on Amazon Beauty ({} users, {} items): sources {}, ranker {}\n", data.num_users(),
               data.num_items(), nlohmann::json(rec->source_ids()).dump(), rec->has_ranker("home"));
    fmt::print("  {} requests (n = {}) after {} warm-up, one thread: p50 {:.2f} ms  p95 {:.2f} ms  "
               "p99 {:.2f} ms  max {:.2f} ms\n",
               requests, n, warmup, Percentile(ms, 0.5), Percentile(ms, 0.95), Percentile(ms, 0.99),
               out["max_ms"].get<double>());
    fmt::print("  fit/load {:.1f} s\n", fit_s);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
