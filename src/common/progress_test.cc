#include "common/progress.h"

#include <cstdio>

#include "common/testing.h"

namespace souk {
namespace {

TEST(ProgressTest, RateAndEtaFromInjectedClock) {
  FakeClock clock;
  ProgressOptions o;
  o.mode = ProgressMode::kOff;
  o.clock = &clock;
  o.unit = "rows";
  Progress p("import", 1000, o);
  clock.Advance(10'000'000);  // 10 s
  p.Add(250);
  const std::string r = p.Render();
  EXPECT_NE(r.find("25.0%"), std::string::npos) << r;
  EXPECT_NE(r.find("25/s rows"), std::string::npos) << r;
  EXPECT_NE(r.find("ETA 30s"), std::string::npos) << r;  // 750 left at 25/s
}

TEST(ProgressTest, StatusIsShownAfterTheCounts) {
  FakeClock clock;
  ProgressOptions o;
  o.mode = ProgressMode::kOff;
  o.clock = &clock;
  Progress p("train", 10, o);
  p.Add(3);
  EXPECT_EQ(p.Render().find("loss"), std::string::npos);
  p.SetStatus("loss 0.412");
  const std::string r = p.Render();
  EXPECT_GT(r.find("loss 0.412"), r.find("30.0%")) << r;
}

TEST(ProgressTest, LinesModeWritesPeriodically) {
  FakeClock clock;
  char* buf = nullptr;
  size_t len = 0;
  FILE* mem = open_memstream(&buf, &len);
  ProgressOptions o;
  o.mode = ProgressMode::kLines;
  o.clock = &clock;
  o.out = mem;
  o.line_interval_s = 5;
  {
    Progress p("gen", 0, o);
    p.Add(1);                 // no line yet (interval not reached)
    clock.Advance(6'000'000);
    p.Add(1);                 // one line
    p.Finish();               // final line
  }
  std::fclose(mem);
  std::string out(buf, len);
  free(buf);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
  EXPECT_NE(out.find("done"), std::string::npos);
}

TEST(ProgressTest, HumanUnits) {
  EXPECT_EQ(HumanCount(1536, true), "1.5 KiB");
  EXPECT_EQ(HumanCount(2'500'000, false), "2.50M");
  EXPECT_EQ(HumanDuration(3725), "1h02m");
  EXPECT_EQ(HumanDuration(65), "1m05s");
}

}  // namespace
}  // namespace souk
