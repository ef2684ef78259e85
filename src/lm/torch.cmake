# libtorch part of lm/: the BERT encoder (inference, int8), pre-training and
# fine-tuning. Only this target (and its tests/bench) includes libtorch headers.
souk_library(souk_lm_torch
  SOURCES bert_model.cc bert_encoder.cc bert_trainer.cc
  DEPS souk_lm_base souk_lm_tokenizer souk_lm_checkpoint souk_common souk::torch
       nlohmann_json::nlohmann_json fmt::fmt)

souk_test(bert_test
  SOURCES bert_test.cc
  DEPS souk_lm_torch nlohmann_json::nlohmann_json TIMEOUT 600)

souk_test(bert_trainer_test
  SOURCES bert_trainer_test.cc
  DEPS souk_lm_torch souk_ingest_readers TIMEOUT 900)
