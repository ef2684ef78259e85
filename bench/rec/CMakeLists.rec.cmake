# Recommendation latency: `home` (sources + ranker + rerankers) per request at
# Amazon Beauty scale, single thread, after warm-up (p50/p95/p99 ms).
# Run from the project root: build/bench/souk_rec_bench [--requests N] [--model DIR] [--sasrec]
if(TARGET souk_recommend)
  add_executable(souk_rec_bench ${CMAKE_CURRENT_LIST_DIR}/../rec_bench.cc)
  target_link_libraries(souk_rec_bench PRIVATE souk_recommend fmt::fmt CLI11::CLI11
    nlohmann_json::nlohmann_json)
  target_compile_definitions(souk_rec_bench PRIVATE SOUK_REC_BENCH_SHARED_DIR="${SOUK_SHARED_DIR}")
  set_target_properties(souk_rec_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
endif()
