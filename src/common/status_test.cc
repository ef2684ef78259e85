#include "common/status.h"

#include "common/testing.h"

namespace souk {
namespace {

StatusOr<int> Half(int x) {
  if (x % 2) return InvalidArgumentError("odd: " + std::to_string(x));
  return x / 2;
}

StatusOr<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  RETURN_IF_ERROR(Half(x));
  return OkStatus();
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status().ok());
  Status s = NotFoundError("item 'x'");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NOT_FOUND: item 'x'");
  EXPECT_EQ(s.WithContext("lookup").message(), "lookup: item 'x'");
}

TEST(StatusTest, MacrosPropagate) {
  auto q = Quarter(12);
  ASSERT_OK(q);
  EXPECT_EQ(*q, 3);
  auto bad = Quarter(6);  // 6/2 = 3 is odd
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "odd: 3");
  EXPECT_OK(CheckEven(4));
  EXPECT_EQ(CheckEven(5).code(), StatusCode::kInvalidArgument);
}

TEST(StatusTest, StatusOrMoveOnly) {
  StatusOr<std::unique_ptr<int>> p = std::make_unique<int>(7);
  ASSERT_OK(p);
  std::unique_ptr<int> v = std::move(p).value();
  EXPECT_EQ(*v, 7);
}

}  // namespace
}  // namespace souk
