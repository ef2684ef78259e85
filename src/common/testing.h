// Test helpers shared by every GoogleTest binary: status assertions and the
// location of the shared datasets.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "common/status.h"

namespace souk::testing {

inline ::testing::AssertionResult IsOk(const Status& s) {
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << s.ToString();
}
template <typename T>
::testing::AssertionResult IsOk(const StatusOr<T>& s) {
  return IsOk(s.status());
}

// ../shared next to the source tree (override with SOUK_SHARED_DIR in the environment).
std::filesystem::path SharedDir();
// SharedDir()/data/<rel>; empty path when the file is missing.
std::filesystem::path SharedData(const std::string& rel);
// A fresh, empty temporary directory removed at process exit.
std::filesystem::path TempDir(const std::string& tag);

}  // namespace souk::testing

#define ASSERT_OK(expr) ASSERT_TRUE(::souk::testing::IsOk(expr))
#define EXPECT_OK(expr) EXPECT_TRUE(::souk::testing::IsOk(expr))

// Skips the current test when a shared dataset is absent.
#define SOUK_REQUIRE_DATA(path_var, rel)                                          \
  const std::filesystem::path path_var = ::souk::testing::SharedData(rel);        \
  if (path_var.empty()) GTEST_SKIP() << "shared dataset missing: " << (rel)
