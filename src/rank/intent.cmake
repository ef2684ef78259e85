# Purchase intent (souk_rank_intent): probability calibration (Platt / isotonic),
# the calibrated XGBoost intent model with drivers, logistic regression (the
# baseline), and the intent features when they exist.
set(_souk_rank_intent_sources
  ${CMAKE_CURRENT_LIST_DIR}/calibration.cc
  ${CMAKE_CURRENT_LIST_DIR}/intent_model.cc
  ${CMAKE_CURRENT_LIST_DIR}/logistic_regression.cc)
set(_souk_rank_intent_tests
  ${CMAKE_CURRENT_LIST_DIR}/calibration_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/intent_model_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/logistic_regression_test.cc)
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/intent_features.cc)
  list(APPEND _souk_rank_intent_sources ${CMAKE_CURRENT_LIST_DIR}/intent_features.cc
    ${CMAKE_CURRENT_LIST_DIR}/intent_sessions.cc)
endif()
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/intent_features_test.cc)
  list(APPEND _souk_rank_intent_tests ${CMAKE_CURRENT_LIST_DIR}/intent_features_test.cc)
endif()

# intent_features.cc includes online/session.h (header-only, uses store/types.h).
set(_souk_rank_intent_deps
  souk_rank souk_common souk_store nlohmann_json::nlohmann_json fmt::fmt)
if(TARGET souk_online)
  list(APPEND _souk_rank_intent_deps souk_online)
endif()

souk_library(souk_rank_intent
  SOURCES ${_souk_rank_intent_sources}
  DEPS ${_souk_rank_intent_deps})

souk_test(rank_intent_test
  SOURCES ${_souk_rank_intent_tests}
  DEPS souk_rank_intent)
