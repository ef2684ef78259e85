# SASRec: the engine's libtorch SASRec next to bench/rec/sasrec_peer.py (the
# pmixer/SASRec.pytorch recipe on python3-torch), or a protocol-B quality run.
# Run from the project root: build/bench/souk_sasrec_bench [--epochs 3] [--json]
if(TARGET souk_eval_seq)
  add_executable(souk_sasrec_bench ${CMAKE_CURRENT_LIST_DIR}/../sasrec_bench.cc)
  target_link_libraries(souk_sasrec_bench PRIVATE souk_eval_seq souk_recommend_torch fmt::fmt
    CLI11::CLI11 nlohmann_json::nlohmann_json)
  target_compile_definitions(souk_sasrec_bench PRIVATE
    SOUK_SASREC_BENCH_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  set_target_properties(souk_sasrec_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
endif()
