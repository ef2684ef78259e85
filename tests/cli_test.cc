// Black-box tests of the `souk` command line: the JSON output contract, exit
// codes and error messages for bad input.
#include <fmt/format.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/testing.h"

namespace souk {
namespace {

struct Result {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

Result RunSouk(const std::string& args) {
  auto dir = testing::TempDir("cli-out");
  const std::string err_path = (dir / "stderr").string();
  const std::string cmd = fmt::format("{} {} 2>{}", SOUK_BINARY, args, err_path);
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  std::ifstream e(err_path);
  r.err.assign(std::istreambuf_iterator<char>(e), {});
  return r;
}

TEST(CliTest, ImportJsonContract) {
  SOUK_REQUIRE_DATA(f, "rees46/2019-Oct.sample.csv");
  auto data = testing::TempDir("cli");
  auto r = RunSouk(fmt::format("import --data-dir {} --format rees46 --json --progress off {}", data.string(), f.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);  // exactly one JSON object on stdout
  for (const char* k : {"items", "events", "accepted", "quarantined", "reasons"}) EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["events"].get<int64_t>() + j["quarantined"].get<int64_t>(), 17434);
  EXPECT_EQ(j["reasons"]["duplicate_event"], 5);
}

TEST(CliTest, BadInputGivesAClearErrorAndExitCode) {
  auto data = testing::TempDir("cli");
  auto r = RunSouk(fmt::format("import --data-dir {} --format rees46 /no/such/file.csv", data.string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/no/such/file.csv"), std::string::npos) << r.err;
  r = RunSouk(fmt::format("import --data-dir {} --format bogus x", data.string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown format 'bogus'"), std::string::npos) << r.err;
  r = RunSouk("config --set import.batch_size=lots");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("import.batch_size"), std::string::npos) << r.err;
  r = RunSouk("import --list-formats");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("homedepot"), std::string::npos);
}

}  // namespace
}  // namespace souk
