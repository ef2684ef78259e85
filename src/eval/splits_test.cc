#include "eval/splits.h"

#include <set>
#include <string>
#include <vector>

#include "common/testing.h"

namespace souk::eval {
namespace {

TEST(Fnv1a64Test, StandardVectors) {
  // Published FNV-1a 64 test vectors.
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(ColdItemTest, DecimalIdHash) {
  // Ids in 1..100 whose FNV-1a 64 of the decimal string is 0 mod 10 (computed with an
  // independent implementation): 3, 25, 36, 43, 49, 54, 65, 70, 87, 90.
  const std::set<int64_t> expected = {3, 25, 36, 43, 49, 54, 65, 70, 87, 90};
  std::set<int64_t> cold;
  for (int64_t id = 1; id <= 100; ++id) {
    if (IsColdItem(id)) cold.insert(id);
    EXPECT_EQ(IsColdItem(id), IsColdItemToken(std::to_string(id)));
  }
  EXPECT_EQ(cold, expected);
  // 160 of the 1,585 items of amazon-scientific (ids 1..1585) are cold.
  int n = 0;
  for (int64_t id = 1; id <= 1585; ++id) n += IsColdItem(id) ? 1 : 0;
  EXPECT_EQ(n, 160);
}

TEST(FoldTest, DeterministicAndBalanced) {
  // Fnv1a64("running shoes") % 5 = 3, Fnv1a64("drill") % 5 = 3, Fnv1a64("") % 5 = 2.
  EXPECT_EQ(FoldOfQuery("running shoes", 5), 3);
  EXPECT_EQ(FoldOfQuery("drill", 5), 3);
  EXPECT_EQ(FoldOfQuery("", 5), 2);
  std::vector<int> sizes(5, 0);
  for (int i = 0; i < 1000; ++i) {
    const std::string q = "query " + std::to_string(i);
    const int f = FoldOfQuery(q, 5);
    ASSERT_GE(f, 0);
    ASSERT_LT(f, 5);
    EXPECT_EQ(f, FoldOfQuery(q, 5));
    EXPECT_EQ(static_cast<uint64_t>(f), Fnv1a64(q) % 5);
    sizes[f]++;
  }
  for (int s : sizes) {
    EXPECT_GT(s, 140);  // 200 expected per fold
    EXPECT_LT(s, 260);
  }
  EXPECT_EQ(FoldOfQuery("anything", 1), 0);
}

TEST(LeaveOneOutTest, Lengths) {
  const std::vector<int32_t> five = {10, 11, 12, 13, 14};
  LeaveOneOut s = SplitLeaveOneOut(five);
  EXPECT_EQ(std::vector<int32_t>(s.train.begin(), s.train.end()),
            (std::vector<int32_t>{10, 11, 12}));
  EXPECT_EQ(s.valid, 13);
  EXPECT_EQ(s.test, 14);
  EXPECT_EQ(std::vector<int32_t>(s.history_before_valid.begin(), s.history_before_valid.end()),
            (std::vector<int32_t>{10, 11, 12}));
  EXPECT_EQ(std::vector<int32_t>(s.history_before_test.begin(), s.history_before_test.end()),
            (std::vector<int32_t>{10, 11, 12, 13}));

  const std::vector<int32_t> two = {1, 2};
  s = SplitLeaveOneOut(two);
  EXPECT_TRUE(s.train.empty());
  EXPECT_EQ(s.valid, 1);
  EXPECT_EQ(s.test, 2);
  EXPECT_EQ(s.history_before_test.size(), 1u);

  const std::vector<int32_t> one = {7};
  s = SplitLeaveOneOut(one);
  EXPECT_FALSE(s.valid.has_value());
  EXPECT_EQ(s.test, 7);
  EXPECT_TRUE(s.history_before_test.empty());

  s = SplitLeaveOneOut({});
  EXPECT_FALSE(s.valid.has_value());
  EXPECT_FALSE(s.test.has_value());
}

TEST(TimeFractionTest, EarliestSeventyPercent) {
  // Sorted by time (ties by index): #1(10) #3(10) #5(20) #2(30) #4(40) #0(50) #6(60) | #7 #8 #9.
  const std::vector<int64_t> t = {50, 10, 30, 10, 40, 20, 60, 70, 80, 90};
  auto split = SplitByTimeFraction(t, 0.7);
  ASSERT_OK(split);
  const std::vector<bool> expected = {true, true, true,  true,  true,
                                      true, true, false, false, false};
  EXPECT_EQ(*split, expected);
  // floor(0.34 * 3) = 1: of three ties, the first in file order is train.
  auto ties = SplitByTimeFraction(std::vector<int64_t>{5, 5, 5}, 0.34);
  EXPECT_EQ(*ties, (std::vector<bool>{true, false, false}));
  EXPECT_TRUE(SplitByTimeFraction({}, 0.7)->empty());
  EXPECT_EQ(SplitByTimeFraction(t, 1.5).status().code(), StatusCode::kInvalidArgument);
}

TEST(SplitByOrderTest, FirstRows) {
  EXPECT_EQ(*SplitByOrder(10, 0.7), 7);
  EXPECT_EQ(*SplitByOrder(12330, 0.7), 8631);  // floor(8631.0)
  EXPECT_EQ(*SplitByOrder(3, 0.7), 2);         // floor(2.1)
  EXPECT_EQ(SplitByOrder(3, -0.1).status().code(), StatusCode::kInvalidArgument);
}

TEST(DateTest, ParseAndFormat) {
  // 2011-09-01T00:00:00Z = 1314835200 (15218 days * 86400).
  EXPECT_EQ(*ParseDate("2011-09-01"), 1314835200);
  EXPECT_EQ(*ParseDate("1970-01-01"), 0);
  EXPECT_EQ(*ParseDateTime("2011-09-01 12:34:56"), 1314835200 + 12 * 3600 + 34 * 60 + 56);
  EXPECT_EQ(*ParseDateTime("2011-09-01T08:05"), 1314835200 + 8 * 3600 + 5 * 60);
  EXPECT_EQ(FormatDate(1314835200 + 100), "2011-09-01");
  EXPECT_EQ(FormatDate(-1), "1969-12-31");
  for (const char* bad : {"2011-02-30", "2011-9-1", "abcd-ef-gh", "", "2011-09-01x"}) {
    auto r = ParseDate(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ParseDateTime("2011-09-01 25:00:00").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseDateTime("2011-09-01").status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(ParseDate("2011-13-01").status().message().find("2011-13-01"), std::string::npos);
}

TEST(CutoffWindowTest, ThirtyDayWindow) {
  auto w = CutoffWindow::FromDate("2011-09-01");
  ASSERT_OK(w);
  EXPECT_EQ(w->cutoff(), 1314835200);
  EXPECT_EQ(w->window_end(), 1317427200);  // 2011-10-01T00:00:00Z
  using Part = CutoffWindow::Part;
  EXPECT_EQ(w->Classify(*ParseDateTime("2011-08-31 23:59:59")), Part::kTrain);
  EXPECT_EQ(w->Classify(*ParseDateTime("2011-09-01 00:00:00")), Part::kTarget);
  EXPECT_EQ(w->Classify(*ParseDateTime("2011-09-30 23:59:59")), Part::kTarget);
  EXPECT_EQ(w->Classify(*ParseDateTime("2011-10-01 00:00:00")), Part::kAfter);
  EXPECT_EQ(CutoffWindow::FromDate("2011-09-01", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CutoffWindow::FromDate("01/09/2011").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace souk::eval
