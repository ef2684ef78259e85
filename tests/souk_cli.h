// Running the built `souk` binary from black-box tests (SOUK_BINARY is set by
// tests/CMakeLists.txt): exit code, stdout and stderr of one invocation.
#pragma once

#include <fmt/format.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "common/testing.h"

namespace souk::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Single-quotes `s` for /bin/sh.
inline std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs `souk <args>` (args are passed to the shell as written) with stdin from
// `stdin_file` when it is not empty.
inline CliResult RunSoukBinary(const std::string& binary, const std::string& args,
                               const std::filesystem::path& stdin_file = {}) {
  auto dir = TempDir("cli-out");
  const std::string err_path = (dir / "stderr").string();
  std::string cmd = fmt::format("{} {} 2>{}", binary, args, ShellQuote(err_path));
  if (!stdin_file.empty()) cmd += " <" + ShellQuote(stdin_file.string());
  CliResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  std::ifstream e(err_path);
  r.err.assign(std::istreambuf_iterator<char>(e), {});
  return r;
}

}  // namespace souk::testing
