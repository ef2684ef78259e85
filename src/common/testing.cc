#include "common/testing.h"

#include <cstdlib>
#include <random>
#include <vector>

namespace souk::testing {

std::filesystem::path SharedDir() {
  if (const char* env = std::getenv("SOUK_SHARED_DIR"); env && *env) return env;
#ifdef SOUK_SHARED_DIR
  return SOUK_SHARED_DIR;
#else
  return "../shared";
#endif
}

std::filesystem::path SharedData(const std::string& rel) {
  auto p = SharedDir() / "data" / rel;
  std::error_code ec;
  if (!std::filesystem::exists(p, ec)) return {};
  return p;
}

namespace {
struct TempDirs {
  std::vector<std::filesystem::path> dirs;
  ~TempDirs() {
    std::error_code ec;
    for (auto& d : dirs) std::filesystem::remove_all(d, ec);
  }
};
TempDirs& Registry() {
  static TempDirs r;
  return r;
}
}  // namespace

std::filesystem::path TempDir(const std::string& tag) {
  std::random_device rd;
  auto base = std::filesystem::temp_directory_path();
  for (;;) {
    auto p = base / ("souk-test-" + tag + "-" + std::to_string(rd()));
    std::error_code ec;
    if (std::filesystem::create_directories(p, ec)) {
      Registry().dirs.push_back(p);
      return p;
    }
  }
}

}  // namespace souk::testing
