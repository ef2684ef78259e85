# Server security (issue #7): API keys with scopes, per-key rate limits, privacy helpers
# (pseudonymized user ids, PII detection/redaction). Included from CMakeLists.txt here.
souk_library(souk_server_security
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/api_keys.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/rate_limit.cc
          ${CMAKE_CURRENT_SOURCE_DIR}/privacy.cc
  DEPS souk_common OpenSSL::Crypto nlohmann_json::nlohmann_json fmt::fmt)

souk_test(server_security_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/security_test.cc
  DEPS souk_server_security SANITIZE)
