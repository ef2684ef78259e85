# libtorch part of recommend/: the SASRec sequential transformer (sasrec_model.h,
# the only header that includes libtorch), its trainer (sasrec_trainer.h) and the
# "sasrec" candidate source (sasrec_source.h, RegisterSasRecSource).
souk_library(souk_recommend_torch
  SOURCES sasrec_model.cc sasrec_trainer.cc sasrec_source.cc
  DEPS souk_recommend_core souk_lm_checkpoint souk_common souk::torch
       nlohmann_json::nlohmann_json fmt::fmt)

# Unit suite (~30 s on one thread): learning a deterministic successor pattern,
# causal masking, padding invariance, save/load, options, the source contract.
souk_test(sasrec_test
  SOURCES sasrec_test.cc
  DEPS souk_recommend_torch souk::torch TIMEOUT 300)
