# WordPiece tokenizer, GGUF metadata reader and WordPiece vocabulary trainer
# (no libtorch): souk_lm_tokenizer.
souk_library(souk_lm_tokenizer
  SOURCES wordpiece_tokenizer.cc gguf.cc wordpiece_trainer.cc
  DEPS souk_common nlohmann_json::nlohmann_json fmt::fmt ICU::uc ICU::i18n ICU::data)

souk_test(lm_tokenizer_test
  SOURCES tokenizer_test.cc
  DEPS souk_lm_tokenizer SANITIZE TIMEOUT 600)

souk_fuzz(lm_tokenizer_fuzz
  SOURCES tokenizer_fuzz.cc
  DEPS souk_lm_tokenizer SECONDS 20)
