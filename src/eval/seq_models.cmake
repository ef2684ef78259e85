# Sequence models of recommend/ as protocol-B variants (AddSequenceModels):
# souk_eval_seq. Needs the libtorch SASRec of recommend/ (torch.cmake there).
if(TARGET souk_recommend_torch)
  souk_library(souk_eval_seq
    SOURCES seq_models.cc
    DEPS souk_eval souk_recommend_torch fmt::fmt)

  souk_test(eval_seq_test
    SOURCES seq_models_test.cc
    DEPS souk_eval_seq TIMEOUT 300)
endif()
