# Protocol D (purchase intent: rees46, online-shoppers, synthetic) over the
# rank/ intent models and features.
if(TARGET souk_rank_intent AND EXISTS ${CMAKE_SOURCE_DIR}/src/rank/intent_features.cc)
  souk_library(souk_eval_intent
    SOURCES intent_protocols.cc
    DEPS souk_eval souk_rank_intent souk_ingest souk_ingest_readers nlohmann_json::nlohmann_json fmt::fmt)
  souk_test(intent_protocols_test
    SOURCES intent_protocols_test.cc
    DEPS souk_eval_intent TIMEOUT 900)
endif()
