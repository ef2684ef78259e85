// Throughput of the import hot path pieces: CSV parsing and event building.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <string>

#include "ingest/csv_reader.h"
#include "ingest/row_mapping.h"
#include "store/types.h"

namespace souk::ingest {
namespace {

std::string EventsCsv(int rows) {
  std::string s = "user_id,session_id,item_id,type,query,value,quantity,price,timestamp,context\n";
  for (int i = 0; i < rows; ++i) {
    s += fmt::format("U{:06d},S{:08d},P{:06d},view,,,,,2025-10-{:02d}T{:02d}:{:02d}:{:02d}Z,\"{{\"\"device\"\":\"\"mobile\"\"}}\"\n",
                     i % 9973, i / 7, (i * 31) % 100000, 1 + i % 28, i % 24, i % 60, (i * 7) % 60);
  }
  return s;
}

void BM_CsvReadEvents(benchmark::State& state) {
  const std::string data = EventsCsv(100000);
  for (auto _ : state) {
    auto r = CsvReader::FromString(data);
    CsvRecord rec;
    int64_t n = 0;
    while (r->Next(&rec)) n += rec.fields.size();
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * 100000);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(data.size()));
}
BENCHMARK(BM_CsvReadEvents)->Unit(benchmark::kMillisecond);

void BM_BuildEvents(benchmark::State& state) {
  const std::string data = EventsCsv(100000);
  for (auto _ : state) {
    auto r = CsvReader::FromString(data);
    CsvRecord rec;
    int64_t ok = 0;
    store::Event e;
    while (r->Next(&rec)) {
      EventFields f{rec.fields[0], rec.fields[1], rec.fields[2], rec.fields[3], rec.fields[4],
                    rec.fields[5], rec.fields[6], rec.fields[7], rec.fields[8], rec.fields[9]};
      ok += !BuildEventFromFields(f, &e).has_value();
    }
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations() * 100000);
}
BENCHMARK(BM_BuildEvents)->Unit(benchmark::kMillisecond);

void BM_ParseTimestamp(benchmark::State& state) {
  int64_t sum = 0;
  for (auto _ : state) sum += *store::ParseTimestampMs("2025-10-03T14:22:31Z");
  benchmark::DoNotOptimize(sum);
}
BENCHMARK(BM_ParseTimestamp);

}  // namespace
}  // namespace souk::ingest
