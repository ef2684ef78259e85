# The recommendation pipeline: scenarios, candidate merging and ranker features,
# the learned ranker, rerankers, reasons, the Recommender and InteractionData
# from the store: souk_recommend. Links the non-neural sources
# (souk_recommend_sources) and the libtorch SASRec source (souk_recommend_torch)
# when they are built, so RegisterAllSources knows them.
set(_souk_rec_deps souk_recommend_core souk_rank souk_store souk_common
    nlohmann_json::nlohmann_json fmt::fmt tomlplusplus::tomlplusplus)
set(_souk_rec_defs "")
if(TARGET souk_recommend_sources)
  list(APPEND _souk_rec_deps souk_recommend_sources)
  list(APPEND _souk_rec_defs SOUK_HAVE_BUILTIN_SOURCES=1)
endif()
if(TARGET souk_recommend_torch)
  list(APPEND _souk_rec_deps souk_recommend_torch)
  list(APPEND _souk_rec_defs SOUK_HAVE_SASREC=1)
endif()

souk_library(souk_recommend
  SOURCES scenario.cc rec_features.cc rec_ranker.cc rerankers.cc reasons.cc recommender.cc
          store_data.cc
  DEPS ${_souk_rec_deps})
if(_souk_rec_defs)
  target_compile_definitions(souk_recommend PUBLIC ${_souk_rec_defs})
endif()

# Unit suite with fake sources (the real ones are exercised when built in).
souk_test(recommend_pipeline_test
  SOURCES pipeline_test.cc rerankers_test.cc reasons_test.cc store_data_test.cc
  DEPS souk_recommend souk_store)
