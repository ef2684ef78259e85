# souk_generator: the synthetic store (`souk generate`), see generator.h.
souk_library(souk_generator
  SOURCES generator.cc generator_catalog.cc generator_behavior.cc generator_text.cc
          generator_vocab.cc
  DEPS souk_common nlohmann_json::nlohmann_json fmt::fmt)

souk_test(generator_test
  SOURCES generator_test.cc
  DEPS souk_generator nlohmann_json::nlohmann_json
  TIMEOUT 300)
