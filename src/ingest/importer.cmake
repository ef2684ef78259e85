# souk_ingest: records, validation, the importer and the dataset adapters.
souk_library(souk_ingest
  SOURCES validator.cc parse.cc importer.cc adapter.cc row_mapping.cc adapters_generic.cc
          adapters_datasets.cc adapters_more.cc
  DEPS souk_ingest_readers souk_store souk_common nlohmann_json::nlohmann_json fmt::fmt spdlog::spdlog)

souk_test(importer_test
  SOURCES importer_test.cc
  DEPS souk_ingest SANITIZE)

souk_test(adapters_test
  SOURCES adapters_test.cc
  DEPS souk_ingest LABELS slow TIMEOUT 900)

souk_test(adapters_more_test
  SOURCES adapters_more_test.cc
  DEPS souk_ingest LABELS slow TIMEOUT 900)
