// SASRec benchmark on Amazon Beauty (EVAL.md B data), two modes:
//
//  speed (default): the engine's SASRec with the architecture and loss of the
//    pmixer/SASRec.pytorch recipe (hidden 50, 2 blocks, 1 head, max_len 50,
//    dropout 0.2, BCE with one sampled negative per position, batch 128, Adam
//    lr 1e-3 betas (0.9, 0.98)) trained for --epochs epochs, next to the same
//    recipe in Python (bench/rec/sasrec_peer.py under /usr/bin/python3 with
//    Debian's python3-torch) run as a subprocess for the same number of epochs
//    with the same thread count. Reports seconds per epoch of both (median of
//    the epochs after the first) and their ratio.
//
//  quality (--quality): protocol B with any SasRecOptions (--options JSON):
//    trains on the training parts, selects the epoch on the validation targets,
//    then prints valid/test HR@10 and NDCG@10 and the per-epoch log.
//
//   build-t/bench/souk_sasrec_bench --epochs 3 --threads 2 [--evaluate] [--json]
//   build-t/bench/souk_sasrec_bench --quality --options '{"epochs": 200}' --json
//
// OMP_WAIT_POLICY=PASSIVE is set (by re-executing itself) when unset: libgomp's
// busy-waiting makes libtorch much slower on a shared machine.
// See bench/rec/README.md for measured runs.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <span>
#include <string>
#include <unistd.h>
#include <vector>

#include "eval/seq_models.h"
#include "eval/sequential.h"
#include "recommend/sasrec_trainer.h"

#ifndef SOUK_SASREC_BENCH_SOURCE_DIR
#define SOUK_SASREC_BENCH_SOURCE_DIR "."
#endif

namespace souk::bench {
namespace {

using json = nlohmann::json;

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Seconds per epoch excluding the first (warm-up) epoch when there are more.
double SteadyEpochSeconds(const std::vector<double>& epochs) {
  if (epochs.size() <= 1) return Median(epochs);
  return Median(std::vector<double>(epochs.begin() + 1, epochs.end()));
}

json EpochLog(const recommend::SasRecTrainReport& report) {
  json out = json::array();
  for (const auto& e : report.epochs) {
    json row = {{"epoch", e.epoch}, {"loss", e.loss}, {"seconds", e.seconds}};
    if (e.valid_ndcg10 >= 0) {
      row["valid_ndcg@10"] = e.valid_ndcg10;
      row["valid_hr@10"] = e.valid_hr10;
    }
    out.push_back(row);
  }
  return out;
}

StatusOr<json> RunPeer(const std::string& python, const std::string& script,
                       const std::string& data, int epochs, int threads, bool evaluate) {
  std::string cmd = fmt::format("'{}' '{}' --data '{}' --epochs {} --threads {}", python, script,
                                data, epochs, threads);
  if (evaluate) cmd += " --eval";
  std::fprintf(stderr, "peer: %s\n", cmd.c_str());
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return UnavailableError("cannot start " + cmd);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int rc = pclose(pipe);
  if (rc != 0) return InternalError(fmt::format("peer exited with status {}: {}", rc, out));
  const size_t brace = out.rfind("\n{");
  const std::string last = out.substr(brace == std::string::npos ? 0 : brace + 1);
  json j = json::parse(last, nullptr, false);
  if (j.is_discarded()) return DataLossError("peer printed no JSON: " + out);
  return j;
}

int Main(int argc, char** argv) {
  CLI::App app("SASRec: engine vs pmixer-recipe Python peer (speed), or protocol-B quality");
  std::string data = "/work/shared/data/amazon-beauty/Beauty.txt";
  int epochs = 3;
  int threads = 2;
  bool quality = false;
  bool no_peer = false;
  bool as_json = false;
  bool evaluate = false;
  bool buckets = true;
  std::string options_text = "{}";
  std::string python = "/usr/bin/python3";
  std::string script = std::string(SOUK_SASREC_BENCH_SOURCE_DIR) + "/bench/rec/sasrec_peer.py";
  app.add_option("--data", data, "S3-Rec sequence file")->capture_default_str();
  app.add_option("--epochs", epochs, "speed: epochs of engine and peer")->capture_default_str();
  app.add_option("--threads", threads, "intra-op threads of both")->capture_default_str();
  app.add_flag("--quality", quality, "protocol-B quality run instead of the speed comparison");
  app.add_option("--options", options_text, "quality: SasRecOptions as JSON")
      ->capture_default_str();
  app.add_flag("--evaluate", evaluate,
               "speed: also rank both models' protocol-B test targets after training");
  app.add_flag("--no-peer", no_peer, "speed: skip the Python peer");
  app.add_option("--length-buckets", buckets,
                 "speed: engine batches sequences of similar length (false: pad like the peer)")
      ->capture_default_str();
  app.add_option("--python", python, "interpreter with torch")->capture_default_str();
  app.add_option("--peer-script", script, "the peer script")->capture_default_str();
  app.add_flag("--json", as_json, "one JSON object on stdout");
  CLI11_PARSE(app, argc, argv);

  auto dataset = eval::ReadSequenceFile(data);
  if (!dataset.ok()) {
    std::fprintf(stderr, "souk_sasrec_bench: %s\n", dataset.status().ToString().c_str());
    return 1;
  }
  const auto train = eval::LeaveOneOutTrainParts(*dataset);
  const auto valid = eval::LeaveOneOutValidTargets(*dataset);
  json result = {{"data", data}, {"users", dataset->sequences.size()},
                 {"items", dataset->num_items()}, {"threads", threads}};

  if (quality) {
    json options_json = json::parse(options_text, nullptr, false);
    if (options_json.is_discarded()) {
      std::fprintf(stderr, "souk_sasrec_bench: --options is not JSON\n");
      return 2;
    }
    recommend::SasRecOptions base;
    base.threads = threads;
    auto options = recommend::SasRecOptionsFromJson(options_json, base);
    if (!options.ok()) {
      std::fprintf(stderr, "souk_sasrec_bench: %s\n", options.status().ToString().c_str());
      return 2;
    }
    eval::SasRecScorer scorer(*options);
    scorer.SetValidationTargets(valid);
    const auto start = std::chrono::steady_clock::now();
    Status fit = scorer.Fit(train, dataset->num_items());
    if (!fit.ok()) {
      std::fprintf(stderr, "souk_sasrec_bench: %s\n", fit.ToString().c_str());
      return 1;
    }
    const double train_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto test = eval::EvaluateSequential(*dataset, scorer, eval::LeaveOneOutTarget::kTest, {});
    const auto val = eval::EvaluateSequential(*dataset, scorer, eval::LeaveOneOutTarget::kValid, {});
    std::vector<double> secs;
    for (const auto& e : scorer.report().epochs) secs.push_back(e.seconds);
    // Single-request latency: ScoreNext on a test history + top-10, as a
    // candidate source serves one request (one thread).
    std::vector<double> ms;
    std::vector<float> scores(dataset->num_items());
    std::vector<int32_t> top(dataset->num_items());
    for (size_t u = 0; u < dataset->sequences.size() && ms.size() < 2000; ++u) {
      const auto& seq = dataset->sequences[u];
      if (seq.size() < 2) continue;
      const auto t0 = std::chrono::steady_clock::now();
      scorer.model()->ScoreNext(std::span<const int32_t>(seq.data(), seq.size() - 1), scores);
      std::iota(top.begin(), top.end(), 0);
      std::partial_sort(top.begin(), top.begin() + 10, top.end(),
                        [&](int32_t a, int32_t b) { return scores[a] > scores[b]; });
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                       .count());
    }
    std::sort(ms.begin(), ms.end());
    result["request_ms_p50"] = ms.empty() ? 0.0 : ms[ms.size() / 2];
    result["request_ms_p99"] = ms.empty() ? 0.0 : ms[ms.size() * 99 / 100];
    result["mode"] = "quality";
    result["options"] = recommend::SasRecOptionsToJson(*options);
    result["train_seconds"] = train_s;
    result["epochs_run"] = scorer.report().epochs.size();
    result["best_epoch"] = scorer.report().best_epoch;
    result["seconds_per_epoch"] = SteadyEpochSeconds(secs);
    result["valid"] = val;
    result["test"] = test;
    result["epoch_log"] = EpochLog(scorer.report());
    if (as_json) {
      std::printf("%s\n", result.dump().c_str());
    } else {
      std::printf("train %.1f s, %zu epochs (best %d), %.2f s/epoch\n", train_s, secs.size(),
                  scorer.report().best_epoch, SteadyEpochSeconds(secs));
      std::printf("valid  HR@10 %.4f  NDCG@10 %.4f\n", val.at("hr@10"), val.at("ndcg@10"));
      std::printf("test   HR@10 %.4f  NDCG@10 %.4f\n", test.at("hr@10"), test.at("ndcg@10"));
      std::printf("request latency p50 %.3f ms, p99 %.3f ms\n",
                  result["request_ms_p50"].get<double>(), result["request_ms_p99"].get<double>());
    }
    return 0;
  }

  // Speed: the pmixer recipe.
  recommend::SasRecOptions o;
  o.max_len = 50;
  o.hidden = 50;
  o.blocks = 2;
  o.heads = 1;
  o.dropout = 0.2f;
  o.activation = "relu";
  o.loss = "bce";
  o.batch_size = 128;
  o.lr = 1e-3f;
  o.epochs = epochs;
  o.patience = 0;
  o.threads = threads;
  o.length_buckets = buckets;
  eval::SasRecScorer scorer(o);
  const auto start = std::chrono::steady_clock::now();
  Status fit = scorer.Fit(train, dataset->num_items());
  if (!fit.ok()) {
    std::fprintf(stderr, "souk_sasrec_bench: %s\n", fit.ToString().c_str());
    return 1;
  }
  const double engine_total =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> secs;
  for (const auto& e : scorer.report().epochs) secs.push_back(e.seconds);
  json engine = {{"seconds_per_epoch", SteadyEpochSeconds(secs)},
                 {"epoch_seconds", secs},
                 {"train_seconds", engine_total},
                 {"final_loss", scorer.report().epochs.back().loss}};
  if (evaluate) {
    engine["test"] = eval::EvaluateSequential(*dataset, scorer, eval::LeaveOneOutTarget::kTest, {});
  }
  result["mode"] = "speed";
  result["epochs"] = epochs;
  result["engine"] = engine;
  result["engine_length_buckets"] = buckets;
  if (!no_peer) {
    auto peer = RunPeer(python, script, data, epochs, threads, evaluate);
    if (!peer.ok()) {
      std::fprintf(stderr, "souk_sasrec_bench: %s\n", peer.status().ToString().c_str());
      return 1;
    }
    result["peer"] = *peer;
    const double ps = (*peer).value("seconds_per_epoch", 0.0);
    if (ps > 0) result["engine_over_peer"] = engine["seconds_per_epoch"].get<double>() / ps;
  }
  if (as_json) {
    std::printf("%s\n", result.dump().c_str());
  } else {
    std::printf("%-28s %12s\n", "system", "s/epoch");
    std::printf("%-28s %12.3f\n", "engine (libtorch, bce)", engine["seconds_per_epoch"].get<double>());
    if (result.contains("peer")) {
      std::printf("%-28s %12.3f\n", "peer (python3-torch, bce)",
                  result["peer"].value("seconds_per_epoch", 0.0));
      if (result.contains("engine_over_peer")) {
        std::printf("engine / peer = %.3f\n", result["engine_over_peer"].get<double>());
      }
    }
    if (engine.contains("test")) {
      std::printf("engine test NDCG@10 %.4f\n", engine["test"]["ndcg@10"].get<double>());
    }
    if (result.contains("peer") && result["peer"].contains("test_ndcg@10")) {
      std::printf("peer   test NDCG@10 %.4f\n", result["peer"]["test_ndcg@10"].get<double>());
    }
  }
  return 0;
}

}  // namespace
}  // namespace souk::bench

int main(int argc, char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    execv("/proc/self/exe", argv);  // returns only on failure: run as is
  }
  return souk::bench::Main(argc, argv);
}
