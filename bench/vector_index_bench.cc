// Vector index benchmark: build time, single-thread query latency (p50/p99) and
// QPS of HNSW vs exact search, and recall@10 of HNSW at several ef_search
// values, on synthetic clustered vectors (a Gaussian mixture, queries drawn from
// the same mixture). Prints a table on stdout.
//
//   build/bench/souk_vector_index_bench                      # 100k x 384
//   build/bench/souk_vector_index_bench --n 1000000 --dim 64 --queries 500
//
// Options: --n N (vectors, default 100000), --dim D (384), --queries Q (1000),
// --clusters C (1000), --spread S (1.0: within-cluster spread relative to the
// spread of the centers), --m M (32), --ef-construction E (200), --seed S (1).
// Queries run one at a time on the calling thread (OMP_NUM_THREADS does not
// matter for them); the build uses every OpenMP thread.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "index/vector_index.h"

namespace souk::index {
namespace {

struct BenchArgs {
  size_t n = 100000;
  int dim = 384;
  size_t queries = 1000;
  int clusters = 1000;
  float spread = 1.0f;
  int m = 32;
  int ef_construction = 200;
  uint32_t seed = 1;
};

bool ParseArgs(int argc, char** argv, BenchArgs* a) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "missing value after %s\n", flag.c_str());
      return false;
    }
    const char* v = argv[++i];
    if (flag == "--n") {
      a->n = std::strtoull(v, nullptr, 10);
    } else if (flag == "--dim") {
      a->dim = std::atoi(v);
    } else if (flag == "--queries") {
      a->queries = std::strtoull(v, nullptr, 10);
    } else if (flag == "--clusters") {
      a->clusters = std::atoi(v);
    } else if (flag == "--spread") {
      a->spread = std::strtof(v, nullptr);
    } else if (flag == "--m") {
      a->m = std::atoi(v);
    } else if (flag == "--ef-construction") {
      a->ef_construction = std::atoi(v);
    } else if (flag == "--seed") {
      a->seed = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return false;
    }
  }
  if (a->n == 0 || a->dim <= 0 || a->queries == 0 || a->clusters <= 0) {
    std::fprintf(stderr, "--n, --dim, --queries and --clusters must be positive\n");
    return false;
  }
  return true;
}

// Data rows then query rows, all from one Gaussian mixture.
std::vector<float> MakeMixture(const BenchArgs& a, size_t rows) {
  std::mt19937 rng(a.seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> centers(static_cast<size_t>(a.clusters) * a.dim);
  for (float& c : centers) c = normal(rng);
  std::uniform_int_distribution<int> pick(0, a.clusters - 1);
  std::vector<float> out(rows * a.dim);
  for (size_t i = 0; i < rows; ++i) {
    const float* c = centers.data() + static_cast<size_t>(pick(rng)) * a.dim;
    for (int j = 0; j < a.dim; ++j) out[i * a.dim + j] = c[j] + a.spread * normal(rng);
  }
  return out;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

struct RunResult {
  double qps = 0, p50_us = 0, p99_us = 0, recall = 0;
};

// Runs every query once; recall against `truth` when it is not empty.
RunResult RunQueries(const VectorIndex& index, const std::vector<float>& queries, size_t nq,
                     VectorQuery base, const std::vector<std::vector<VectorHit>>& truth,
                     std::vector<std::vector<VectorHit>>* out) {
  std::vector<double> lat_us(nq);
  double recall = 0;
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < nq; ++i) {
    VectorQuery q = base;
    q.vector = queries.data() + i * index.dim();
    const auto t0 = std::chrono::steady_clock::now();
    auto hits = index.Search(q);
    lat_us[i] = Seconds(t0) * 1e6;
    if (!hits.ok()) {
      std::fprintf(stderr, "search failed: %s\n", hits.status().ToString().c_str());
      std::exit(1);
    }
    if (!truth.empty()) {
      std::set<uint32_t> want;
      for (const auto& h : truth[i]) want.insert(h.doc);
      size_t found = 0;
      for (const auto& h : *hits) found += want.count(h.doc);
      recall += want.empty() ? 1.0 : static_cast<double>(found) / want.size();
    }
    if (out != nullptr) out->push_back(std::move(hits).value());
  }
  const double total = Seconds(start);
  std::sort(lat_us.begin(), lat_us.end());
  RunResult r;
  r.qps = static_cast<double>(nq) / total;
  r.p50_us = lat_us[nq / 2];
  r.p99_us = lat_us[std::min(nq - 1, nq * 99 / 100)];
  r.recall = truth.empty() ? 1.0 : recall / static_cast<double>(nq);
  return r;
}

int Main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // rows appear as they are measured
  BenchArgs a;
  if (!ParseArgs(argc, argv, &a)) return 2;
  std::printf(
      "# vector index bench: n=%zu dim=%d queries=%zu clusters=%d spread=%.2f M=%d "
      "efC=%d\n",
      a.n, a.dim, a.queries, a.clusters, a.spread, a.m, a.ef_construction);
  const std::vector<float> all = MakeMixture(a, a.n + a.queries);
  const std::vector<float> data(all.begin(), all.begin() + a.n * a.dim);
  const std::vector<float> queries(all.begin() + a.n * a.dim, all.end());
  std::vector<uint32_t> docs(a.n);
  for (size_t i = 0; i < a.n; ++i) docs[i] = static_cast<uint32_t>(i);

  auto created = VectorIndex::Create(
      {.dim = a.dim, .hnsw_m = a.m, .ef_construction = a.ef_construction, .exact_below = 0});
  if (!created.ok()) {
    std::fprintf(stderr, "%s\n", created.status().ToString().c_str());
    return 1;
  }
  VectorIndex& index = **created;
  ProgressOptions progress;
  const auto t0 = std::chrono::steady_clock::now();
  if (Status s = index.AddBatch(docs, data, &progress); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  const double build_s = Seconds(t0);
  std::printf("build (HNSW, all threads): %.1f s, %.0f vectors/s\n", build_s, a.n / build_s);

  std::printf("%-22s %10s %10s %10s %10s\n", "search (k=10, 1 thr)", "QPS", "p50 us", "p99 us",
              "recall@10");
  std::vector<std::vector<VectorHit>> truth;
  truth.reserve(a.queries);
  const RunResult exact =
      RunQueries(index, queries, a.queries, {.k = 10, .exact = true}, {}, &truth);
  std::printf("%-22s %10.0f %10.0f %10.0f %10.4f\n", "exact", exact.qps, exact.p50_us, exact.p99_us,
              1.0);
  for (int ef : {64, 128, 256}) {
    const RunResult r =
        RunQueries(index, queries, a.queries, {.k = 10, .ef_search = ef}, truth, nullptr);
    const std::string label = "hnsw ef=" + std::to_string(ef);
    std::printf("%-22s %10.0f %10.0f %10.0f %10.4f\n", label.c_str(), r.qps, r.p50_us, r.p99_us,
                r.recall);
  }
  // Filtered: 30% of the docs allowed (graph walk with a widened beam), and 1%
  // (the selective rule switches to exact).
  for (int percent : {30, 1}) {
    std::vector<uint8_t> allow(a.n);
    for (size_t d = 0; d < a.n; ++d) allow[d] = (d * 7919 % 100) < static_cast<size_t>(percent);
    std::vector<std::vector<VectorHit>> ftruth;
    RunQueries(index, queries, a.queries, {.k = 10, .allow = &allow, .exact = true}, {}, &ftruth);
    VectorSearchInfo info;
    const RunResult r = RunQueries(index, queries, a.queries,
                                   {.k = 10, .allow = &allow, .info = &info}, ftruth, nullptr);
    const std::string label = "filter " + std::to_string(percent) + "% " +
                              (info.path == VectorSearchPath::kExact ? "(exact)" : "(hnsw)");
    std::printf("%-22s %10.0f %10.0f %10.0f %10.4f\n", label.c_str(), r.qps, r.p50_us, r.p99_us,
                r.recall);
  }
  return 0;
}

}  // namespace
}  // namespace souk::index

int main(int argc, char** argv) { return souk::index::Main(argc, argv); }
