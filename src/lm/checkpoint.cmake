# safetensors files, BERT config.json, pooling config and model folders (no
# libtorch): souk_lm_checkpoint. Included by src/lm/CMakeLists.txt.
souk_library(souk_lm_checkpoint
  SOURCES safetensors.cc bert_config.cc
  DEPS souk_common nlohmann_json::nlohmann_json fmt::fmt)

souk_test(lm_checkpoint_test
  SOURCES checkpoint_test.cc
  DEPS souk_lm_checkpoint SANITIZE)

souk_fuzz(safetensors_fuzz
  SOURCES safetensors_fuzz.cc
  DEPS souk_lm_checkpoint SECONDS 20)
