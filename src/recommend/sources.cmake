# Non-neural candidate sources (popular, trending, co-occurrence, EASE, content,
# FBT, buy-again) and RegisterBuiltinSources: souk_recommend_sources.
if(NOT TARGET Eigen3::Eigen)
  find_package(Eigen3 REQUIRED NO_MODULE)
endif()
# EASE inverts its Gram matrix with LAPACK (spotrf/spotri) from OpenBLAS when
# present (~10x faster than Eigen's LLT on 2 cores); Eigen otherwise.
find_library(SOUK_OPENBLAS_LIBRARY NAMES openblas)

souk_library(souk_recommend_sources
  SOURCES source_io.cc popular_source.cc cooccurrence_source.cc ease_source.cc
          content_source.cc fbt_source.cc buy_again_source.cc builtin_sources.cc
  DEPS souk_recommend_core souk_lm_base souk_index_vector souk_common Eigen3::Eigen
       nlohmann_json::nlohmann_json fmt::fmt)
if(SOUK_OPENBLAS_LIBRARY)
  target_link_libraries(souk_recommend_sources PUBLIC ${SOUK_OPENBLAS_LIBRARY})
  set_source_files_properties(${CMAKE_CURRENT_SOURCE_DIR}/ease_source.cc
                              PROPERTIES COMPILE_DEFINITIONS SOUK_HAVE_LAPACK=1)
endif()
# The dense EASE loops are plain float loops: let the compiler vectorize them.
target_compile_options(souk_recommend_sources PRIVATE $<$<NOT:$<CONFIG:Debug>>:-O3>)

souk_test(recommend_sources_test
  SOURCES sources_test.cc
  DEPS souk_recommend_sources SANITIZE)

# Fit of every source on Amazon Beauty (22k users, 12k items, 198k events); skipped
# without the dataset.
souk_test(recommend_sources_beauty_test
  SOURCES sources_beauty_test.cc
  DEPS souk_recommend_sources LABELS slow TIMEOUT 1800)
