# quality: data-quality report (`souk quality`) and explicit cleaning (`souk clean`).
souk_library(souk_quality
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/quality.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/quality_metrics.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/quality_report_text.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/quality_clean.cc
  DEPS souk_store souk_common nlohmann_json::nlohmann_json fmt::fmt)

souk_test(quality_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/quality_test.cc
  DEPS souk_quality souk_store TIMEOUT 300)
