#include "common/thread_pool.h"

#include <atomic>
#include <numeric>

#include "common/testing.h"

namespace souk {
namespace {

TEST(ThreadPoolTest, SubmitReturnsValues) {
  ThreadPool pool(3);
  std::vector<std::future<int>> fs;
  for (int i = 0; i < 50; ++i) fs.push_back(pool.Submit([i] { return i * i; }));
  int sum = 0;
  for (auto& f : fs) sum += f.get();
  EXPECT_EQ(sum, 40425);  // sum of squares 0..49
}

TEST(ThreadPoolTest, ParallelForCoversEveryIndexOnce) {
  ThreadPool pool(2);
  std::vector<std::atomic<int>> hits(10007);
  pool.ParallelFor(0, hits.size(), [&](size_t i) { hits[i]++; });
  for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  pool.ParallelFor(5, 5, [&](size_t) { FAIL(); });
}

}  // namespace
}  // namespace souk
