#include "common/sha256.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/testing.h"

namespace souk {
namespace {

// FIPS 180-2 appendix B test vectors.
TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, IncrementalEqualsOneShotAndFile) {
  std::string data;
  for (int i = 0; i < 300000; ++i) data.push_back(static_cast<char>(i * 31 + 7));
  Sha256 h;
  h.Update(data.substr(0, 12345));
  h.Update(data.substr(12345));
  std::string incremental = h.HexDigest();
  EXPECT_EQ(incremental, Sha256Hex(data));
  auto dir = testing::TempDir("sha256");
  std::ofstream(dir / "f.bin", std::ios::binary) << data;
  ASSERT_OK_AND_ASSIGN(std::string from_file, Sha256File(dir / "f.bin"));
  EXPECT_EQ(from_file, incremental);
  EXPECT_EQ(Sha256File(dir / "missing.bin").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace souk
