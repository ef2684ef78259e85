# Protocol E (cn-ner): Chinese e-commerce attribute extraction with the search/
# entity tagger. Included from src/eval/CMakeLists.txt. The search/ module is
# configured after eval/, so the tagger target is referenced by name only.
souk_library(souk_eval_ner
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/ner_protocol.cc
  DEPS souk_eval souk_search_tagger)

souk_test(ner_protocol_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/ner_protocol_test.cc
  DEPS souk_eval_ner TIMEOUT 600)
