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

// `ASSERT_OK_AND_ASSIGN(auto x, StatusOrExpr)`: fails the test on error, else
// moves the value into the declaration.
#define SOUK_TESTING_CONCAT_INNER(a, b) a##b
#define SOUK_TESTING_CONCAT(a, b) SOUK_TESTING_CONCAT_INNER(a, b)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(SOUK_TESTING_CONCAT(_souk_statusor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  ASSERT_TRUE(::souk::testing::IsOk(tmp.status())); \
  lhs = std::move(tmp).value()

// Skips the current test when a shared dataset is absent.
#define SOUK_REQUIRE_DATA(path_var, rel)                                          \
  const std::filesystem::path path_var = ::souk::testing::SharedData(rel);        \
  if (path_var.empty()) GTEST_SKIP() << "shared dataset missing: " << (rel)
