# souk_load_gen: HTTP load generator for `souk serve` (closed/open loop, latency percentiles,
# server RSS sampling, hot swap under load). bench/load/run_load.sh runs the recorded benchmark.
# Run: build/bench/souk_load_gen --port N --key KEY --targets FILE [--concurrency C] [--rate R] [--json]
find_package(Threads REQUIRED)
add_executable(souk_load_gen ${CMAKE_CURRENT_LIST_DIR}/load_gen.cc)
target_link_libraries(souk_load_gen PRIVATE PkgConfig::HTTPLIB nlohmann_json::nlohmann_json fmt::fmt
  CLI11::CLI11 Threads::Threads)
set_target_properties(souk_load_gen PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
