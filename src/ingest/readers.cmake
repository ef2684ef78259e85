# Streaming CSV / JSONL readers (see csv_reader.h, jsonl_reader.h).
souk_library(souk_ingest_readers
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/line_source.cc
    ${CMAKE_CURRENT_LIST_DIR}/csv_reader.cc
    ${CMAKE_CURRENT_LIST_DIR}/jsonl_reader.cc
  DEPS souk_common simdjson::simdjson)

souk_test(readers_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/readers_test.cc
  DEPS souk_ingest_readers
  SANITIZE)
