souk_library(souk_search
  SOURCES catalog.cc query_understanding.cc personalization.cc engine.cc builder.cc search_log.cc store_search.cc live_update.cc request.cc
  DEPS souk_index_lexical souk_index_vector souk_lm_base souk_rank souk_search_tagger
       souk_eval souk_store souk_text souk_common nlohmann_json::nlohmann_json fmt::fmt)

souk_test(search_engine_test SOURCES engine_test.cc query_understanding_test.cc DEPS souk_search
  TIMEOUT 600)
