# Third-party dependencies, all from Debian packages (scripts/setup.sh).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(simdjson REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(ICU REQUIRED COMPONENTS uc i18n data)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(tomlplusplus REQUIRED)
pkg_check_modules(OPENCC REQUIRED IMPORTED_TARGET opencc)
pkg_check_modules(XAPIAN REQUIRED IMPORTED_TARGET xapian-core)
# Faiss needs OpenMP found first (its config references OpenMP::OpenMP_CXX).
find_package(OpenMP REQUIRED)
find_package(faiss REQUIRED)
# XGBoost's CMake config checks for the `xgboost` binary (Debian package xgboost).
find_package(xgboost REQUIRED)
# libtorch (Debian libtorch-dev): only lm/ targets link it. Its config sets
# TORCH_LIBRARIES; wrap it in one imported target.
find_package(Torch REQUIRED)
if(NOT TARGET souk::torch)
  add_library(souk::torch INTERFACE IMPORTED)
  set_target_properties(souk::torch PROPERTIES INTERFACE_LINK_LIBRARIES "${TORCH_LIBRARIES}")
endif()
find_package(OpenSSL REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
if(SOUK_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(SOUK_BUILD_BENCH AND NOT SOUK_SANITIZE_ONLY)
  find_package(benchmark REQUIRED)
endif()

# Eigen (header-only linear algebra) for the EASE collaborative filter in recommend/.
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
