// Throughput of text analysis on product titles (English and Chinese).
#include <benchmark/benchmark.h>

#include "text/analyzer.h"

namespace souk::text {
namespace {

void Run(benchmark::State& state, const char* title) {
  auto a = Analyzer::Create({});
  if (!a.ok()) {
    state.SkipWithError(a.status().ToString().c_str());
    return;
  }
  int64_t terms = 0;
  for (auto _ : state) terms += static_cast<int64_t>((*a)->Terms(title).size());
  benchmark::DoNotOptimize(terms);
  state.SetItemsProcessed(state.iterations());
}

void BM_AnalyzeEnglishTitle(benchmark::State& state) {
  Run(state, "BEHR Premium Textured DeckOver 1-gal. #SC-141 Tugboat Wood and Concrete Coating");
}
BENCHMARK(BM_AnalyzeEnglishTitle);

void BM_AnalyzeChineseTitle(benchmark::State& state) {
  Run(state, "華為 Mate60 Pro 智能手機 256GB 雅川青 全網通 5G 500毫升");
}
BENCHMARK(BM_AnalyzeChineseTitle);

}  // namespace
}  // namespace souk::text
