# Model download (HTTPS with resume and checksums), weight verification and the
# embedding cache: souk_lm_pull (no libtorch). Included by src/lm/CMakeLists.txt.
souk_library(souk_lm_pull
  SOURCES model_download.cc embedding_cache.cc
  DEPS souk_common PkgConfig::HTTPLIB OpenSSL::SSL OpenSSL::Crypto
       nlohmann_json::nlohmann_json fmt::fmt SQLite::SQLite3)

# Starts local HTTP servers on 127.0.0.1 (no internet needed).
souk_test(lm_pull_test
  SOURCES pull_test.cc
  DEPS souk_lm_pull TIMEOUT 300)

