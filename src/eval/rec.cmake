# Recommendation protocols C (amazon-unisrec) and F (online-retail) of EVAL.md:
# readers, set metrics, the source blend, the two protocols (souk_eval_rec).
set(_souk_eval_rec_deps
  souk_eval souk_recommend_core souk_lm_base souk_rank souk_rank_intent souk_ingest_readers
  nlohmann_json::nlohmann_json fmt::fmt)
if(TARGET souk_recommend_sources)
  list(APPEND _souk_eval_rec_deps souk_recommend_sources)
endif()
souk_library(souk_eval_rec
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/rec_data.cc
    ${CMAKE_CURRENT_LIST_DIR}/rec_metrics.cc
    ${CMAKE_CURRENT_LIST_DIR}/rec_blend.cc
    ${CMAKE_CURRENT_LIST_DIR}/rec_cold_slots.cc
    ${CMAKE_CURRENT_LIST_DIR}/unisrec_protocol.cc
    ${CMAKE_CURRENT_LIST_DIR}/rec_retail_ranker.cc
    ${CMAKE_CURRENT_LIST_DIR}/online_retail_protocol.cc
    ${CMAKE_CURRENT_LIST_DIR}/rec_protocols.cc
  DEPS ${_souk_eval_rec_deps})

souk_test(rec_protocols_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/rec_protocols_test.cc
  DEPS souk_eval_rec TIMEOUT 1800)

# Both protocols on the shared datasets with the built-in sources (skipped without them).
if(TARGET souk_recommend_sources)
  souk_test(rec_protocols_data_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/rec_protocols_data_test.cc
    DEPS souk_eval_rec LABELS slow TIMEOUT 3600)
endif()
