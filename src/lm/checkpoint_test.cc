// Tests of safetensors reading/writing, BERT config parsing and model folder
// inspection, against the real files in shared/models and generated files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/testing.h"
#include "lm/bert_config.h"
#include "lm/safetensors.h"

namespace souk::lm {
namespace {

namespace fs = std::filesystem;

// shared/models/<rel>, or an empty path when absent.
fs::path SharedModel(const std::string& rel) {
  fs::path p = souk::testing::SharedDir() / "models" / rel;
  std::error_code ec;
  return fs::exists(p, ec) ? p : fs::path();
}

#define REQUIRE_MODEL(var, rel)          \
  const fs::path var = SharedModel(rel); \
  if (var.empty()) GTEST_SKIP() << "shared model files missing: " << (rel)

std::vector<uint8_t> ReadBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
}

void WriteBytes(const fs::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

void WriteText(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string ReadText(const fs::path& p) {
  auto b = ReadBytes(p);
  return std::string(b.begin(), b.end());
}

template <typename T>
std::span<const uint8_t> AsBytes(const std::vector<T>& v) {
  return {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(T)};
}

uint64_t HeaderLength(const std::vector<uint8_t>& b) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | b[i];
  return n;
}

// A file made of a given header text (padded to 8 bytes) and data section.
std::vector<uint8_t> MakeFile(std::string header, size_t data_bytes) {
  header.append((8 - header.size() % 8) % 8, ' ');
  std::vector<uint8_t> out(8);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(uint64_t{header.size()} >> (8 * i));
  out.insert(out.end(), header.begin(), header.end());
  for (size_t i = 0; i < data_bytes; ++i) out.push_back(static_cast<uint8_t>(i * 7));
  return out;
}

// ---------------------------------------------------------------------------
// Real fixtures (model2vec-rs test models).

constexpr char kFixtures[] = "model2vec-fixtures/tests/fixtures";

TEST(SafetensorsFixtures, OpenAllFourWithTheirHeaders) {
  REQUIRE_MODEL(dir, kFixtures);
  struct Expect {
    const char* folder;
    const char* name;
    DType dtype;
    std::vector<int64_t> shape;
    size_t nbytes;
  };
  const std::vector<Expect> single = {
      {"test-model-float32", "embeddings", DType::kF32, {29528, 2}, 236224},
      {"test-model-float16", "embeddings", DType::kF16, {29528, 2}, 118112},
      {"test-model-int8", "embeddings", DType::kI8, {29528, 2}, 59056},
  };
  for (const Expect& e : single) {
    SCOPED_TRACE(e.folder);
    const fs::path path = dir / e.folder / "model.safetensors";
    ASSERT_OK_AND_ASSIGN(auto file, SafetensorsFile::Open(path));
    EXPECT_EQ(file->path(), path);
    ASSERT_EQ(file->tensors().size(), 1u);
    const TensorView* t = file->Find(e.name);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t, &file->tensors()[0]);
    EXPECT_EQ(t->dtype, e.dtype);
    EXPECT_EQ(t->shape, e.shape);
    EXPECT_EQ(t->numel(), 29528 * 2);
    EXPECT_EQ(t->nbytes, e.nbytes);
    EXPECT_TRUE(file->metadata().empty());
    EXPECT_EQ(file->Find("missing"), nullptr);
    // The data section ends exactly at the end of the file.
    const uint64_t header = HeaderLength(ReadBytes(path));
    EXPECT_EQ(8 + header + t->nbytes, fs::file_size(path));
  }

  ASSERT_OK_AND_ASSIGN(
      auto vq, SafetensorsFile::Open(dir / "test-model-vocab-quantized" / "model.safetensors"));
  ASSERT_EQ(vq->tensors().size(), 3u);
  // File order is data order: weights, embeddings, mapping.
  EXPECT_EQ(vq->tensors()[0].name, "weights");
  EXPECT_EQ(vq->tensors()[0].dtype, DType::kF64);
  EXPECT_EQ(vq->tensors()[0].shape, (std::vector<int64_t>{29524}));
  EXPECT_EQ(vq->tensors()[1].name, "embeddings");
  EXPECT_EQ(vq->tensors()[1].dtype, DType::kF32);
  EXPECT_EQ(vq->tensors()[1].shape, (std::vector<int64_t>{128, 64}));
  EXPECT_EQ(vq->tensors()[2].name, "mapping");
  EXPECT_EQ(vq->tensors()[2].dtype, DType::kI32);
  EXPECT_EQ(vq->tensors()[2].shape, (std::vector<int64_t>{29524}));
  EXPECT_EQ(vq->tensors()[1].data, vq->tensors()[0].data + 236192);
  EXPECT_EQ(vq->tensors()[2].data, vq->tensors()[1].data + 32768);
}

TEST(SafetensorsFixtures, Float16IsTheRoundedFloat32Model) {
  REQUIRE_MODEL(dir, kFixtures);
  ASSERT_OK_AND_ASSIGN(auto f32,
                       SafetensorsFile::Open(dir / "test-model-float32/model.safetensors"));
  ASSERT_OK_AND_ASSIGN(auto f16,
                       SafetensorsFile::Open(dir / "test-model-float16/model.safetensors"));
  const TensorView* a = f32->Find("embeddings");
  const TensorView* b = f16->Find("embeddings");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_OK_AND_ASSIGN(std::vector<float> x, ToFloat32(*a));
  ASSERT_OK_AND_ASSIGN(std::vector<float> y, ToFloat32(*b));
  ASSERT_EQ(x.size(), 59056u);
  ASSERT_EQ(y.size(), x.size());
  // Known first values of the float32 file.
  EXPECT_FLOAT_EQ(x[0], -0.46450674533843994f);
  EXPECT_FLOAT_EQ(x[3], -2.683870315551758f);
  size_t nonzero = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    uint16_t raw;
    std::memcpy(&raw, b->data + 2 * i, 2);
    // The float16 file is exactly the float32 model rounded to nearest even.
    ASSERT_EQ(FloatToHalf(x[i]), raw) << "element " << i << " value " << x[i];
    ASSERT_EQ(y[i], HalfToFloat(raw));
    ASSERT_LE(std::fabs(x[i] - y[i]), std::fabs(x[i]) * 0x1p-11f + 0x1p-25f) << "element " << i;
    nonzero += x[i] != 0;
  }
  EXPECT_GT(nonzero, x.size() / 2);
}

TEST(SafetensorsFixtures, IntegerTensorsDoNotConvert) {
  REQUIRE_MODEL(dir, kFixtures);
  ASSERT_OK_AND_ASSIGN(auto file, SafetensorsFile::Open(dir / "test-model-int8/model.safetensors"));
  auto r = ToFloat32(file->tensors()[0]);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("embeddings"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("I8"), std::string::npos) << r.status().message();
}

TEST(SafetensorsFixtures, VocabQuantizedLayout) {
  REQUIRE_MODEL(dir, kFixtures);
  ASSERT_OK_AND_ASSIGN(auto file,
                       SafetensorsFile::Open(dir / "test-model-vocab-quantized/model.safetensors"));
  // Every vocabulary entry maps to one of the 128 embedding rows.
  const TensorView* mapping = file->Find("mapping");
  ASSERT_NE(mapping, nullptr);
  std::vector<int32_t> rows(static_cast<size_t>(mapping->numel()));
  std::memcpy(rows.data(), mapping->data, mapping->nbytes);
  std::vector<bool> used(128, false);
  for (int32_t r : rows) {
    ASSERT_GE(r, 0);
    ASSERT_LT(r, 128);
    used[static_cast<size_t>(r)] = true;
  }
  EXPECT_GT(std::count(used.begin(), used.end(), true), 64);
  EXPECT_FALSE(ToFloat32(*mapping).ok());
  // F64 converts element by element.
  const TensorView* weights = file->Find("weights");
  ASSERT_NE(weights, nullptr);
  ASSERT_OK_AND_ASSIGN(std::vector<float> w, ToFloat32(*weights));
  ASSERT_EQ(w.size(), 29524u);
  for (size_t i = 0; i < w.size(); ++i) {
    double d;
    std::memcpy(&d, weights->data + 8 * i, 8);
    ASSERT_EQ(w[i], static_cast<float>(d));
  }
  ASSERT_OK_AND_ASSIGN(std::vector<float> emb, ToFloat32(*file->Find("embeddings")));
  EXPECT_EQ(emb.size(), 128u * 64u);
}

// ---------------------------------------------------------------------------
// Writing and reading back.

std::vector<float> SampleValues(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 2.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  if (n >= 6) {
    v[0] = 0.0f;
    v[1] = -0.0f;
    v[2] = 1.0f;
    v[3] = -65504.0f;
    v[4] = 1e-6f;  // subnormal in float16
    v[5] = 3.0e38f;
  }
  return v;
}

TEST(SafetensorsWrite, RoundTripF32F16Bf16WithMetadata) {
  const fs::path path = souk::testing::TempDir("st-rt") / "sub" / "model.safetensors";
  const std::vector<float> values = SampleValues(3 * 5, 1);
  std::vector<uint16_t> half(values.size()), bf(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    half[i] = FloatToHalf(values[i]);
    bf[i] = FloatToBf16(values[i]);
  }
  const std::vector<int64_t> ids = {7, -3, 1ll << 40};
  // Given order: zeta, alpha, mid, ids (not sorted).
  const std::vector<TensorToWrite> tensors = {
      {"zeta.f32", DType::kF32, {3, 5}, AsBytes(values)},
      {"alpha.f16", DType::kF16, {5, 3}, AsBytes(half)},
      {"mid.bf16", DType::kBF16, {15}, AsBytes(bf)},
      {"ids", DType::kI64, {3}, AsBytes(ids)},
  };
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "ünï \"q\""}};
  ASSERT_OK(WriteSafetensors(path, tensors, metadata));
  EXPECT_FALSE(fs::exists(path.string() + ".tmp"));

  const std::vector<uint8_t> bytes = ReadBytes(path);
  const uint64_t n = HeaderLength(bytes);
  EXPECT_EQ(n % 8, 0u);
  const std::string header(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(n));
  // Compact JSON, "__metadata__" first, then tensor names sorted.
  EXPECT_EQ(header.rfind("{\"__metadata__\":{\"format\":\"pt\",", 0), 0u) << header;
  const size_t p_alpha = header.find("\"alpha.f16\""), p_ids = header.find("\"ids\""),
               p_mid = header.find("\"mid.bf16\""), p_zeta = header.find("\"zeta.f32\"");
  ASSERT_NE(p_zeta, std::string::npos);
  EXPECT_LT(p_alpha, p_ids);
  EXPECT_LT(p_ids, p_mid);
  EXPECT_LT(p_mid, p_zeta);
  EXPECT_NE(header.find("{\"dtype\":\"F32\",\"shape\":[3,5],\"data_offsets\":[0,60]}"),
            std::string::npos)
      << header;
  EXPECT_EQ(bytes.size(), 8 + n + 60 + 30 + 30 + 24);

  ASSERT_OK_AND_ASSIGN(auto file, SafetensorsFile::Open(path));
  EXPECT_EQ(file->metadata(), metadata);
  ASSERT_EQ(file->tensors().size(), 4u);
  // tensors() follows the data, i.e. the given order.
  for (size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(file->tensors()[i].name, tensors[i].name);
    EXPECT_EQ(file->tensors()[i].dtype, tensors[i].dtype);
    EXPECT_EQ(file->tensors()[i].shape, tensors[i].shape);
    EXPECT_EQ(
        0, std::memcmp(file->tensors()[i].data, tensors[i].bytes.data(), tensors[i].bytes.size()));
  }
  EXPECT_EQ(reinterpret_cast<uintptr_t>(file->tensors()[0].data) % 8, 0u);

  ASSERT_OK_AND_ASSIGN(std::vector<float> f32, ToFloat32(*file->Find("zeta.f32")));
  EXPECT_EQ(0, std::memcmp(f32.data(), values.data(), values.size() * 4));  // bit exact
  ASSERT_OK_AND_ASSIGN(std::vector<float> f16, ToFloat32(*file->Find("alpha.f16")));
  ASSERT_OK_AND_ASSIGN(std::vector<float> b16, ToFloat32(*file->Find("mid.bf16")));
  for (size_t i = 0; i < values.size(); ++i) {
    const float v = values[i];
    if (std::fabs(v) <= 65504.0f) {
      EXPECT_LE(std::fabs(f16[i] - v), std::fabs(v) * 0x1p-11f + 0x1p-25f) << i << " " << v;
    } else {
      EXPECT_TRUE(std::isinf(f16[i])) << i;
    }
    EXPECT_LE(std::fabs(b16[i] - v), std::fabs(v) * 0x1p-8f) << i << " " << v;
  }
  EXPECT_TRUE(std::signbit(f16[1]));
  EXPECT_FALSE(ToFloat32(*file->Find("ids")).ok());

  // The same bytes in memory give the same file.
  ASSERT_OK_AND_ASSIGN(auto mem, SafetensorsFile::FromBytes(bytes, "in-memory.safetensors"));
  EXPECT_EQ(mem->path(), fs::path("in-memory.safetensors"));
  ASSERT_EQ(mem->tensors().size(), 4u);
  EXPECT_EQ(mem->tensors()[3].name, "ids");
  int64_t id2;
  std::memcpy(&id2, mem->tensors()[3].data + 16, 8);
  EXPECT_EQ(id2, 1ll << 40);

  // Moving keeps the views valid.
  SafetensorsFile moved = std::move(*file);
  ASSERT_OK_AND_ASSIGN(std::vector<float> again, ToFloat32(*moved.Find("zeta.f32")));
  EXPECT_EQ(again, f32);
  EXPECT_TRUE(file->tensors().empty());
  SafetensorsFile moved_mem = std::move(*mem);
  moved = std::move(moved_mem);  // releases the first mapping
  EXPECT_EQ(moved.path(), fs::path("in-memory.safetensors"));
  ASSERT_OK_AND_ASSIGN(std::vector<float> again2, ToFloat32(*moved.Find("zeta.f32")));
  EXPECT_EQ(again2, f32);
}

TEST(SafetensorsWrite, EmptyAndZeroSizedTensors) {
  const fs::path dir = souk::testing::TempDir("st-empty");
  ASSERT_OK(WriteSafetensors(dir / "none.safetensors", {}));
  ASSERT_OK_AND_ASSIGN(auto none, SafetensorsFile::Open(dir / "none.safetensors"));
  EXPECT_TRUE(none->tensors().empty());
  EXPECT_TRUE(none->metadata().empty());
  EXPECT_EQ(ReadText(dir / "none.safetensors").substr(8), "{}      ");

  const std::vector<float> one = {2.5f};
  const std::vector<TensorToWrite> tensors = {
      {"empty", DType::kF32, {0, 4}, {}},
      {"scalar", DType::kF32, {}, AsBytes(one)},
  };
  ASSERT_OK(WriteSafetensors(dir / "z.safetensors", tensors));
  ASSERT_OK_AND_ASSIGN(auto z, SafetensorsFile::Open(dir / "z.safetensors"));
  ASSERT_EQ(z->tensors().size(), 2u);
  EXPECT_EQ(z->Find("empty")->numel(), 0);
  ASSERT_OK_AND_ASSIGN(auto e, ToFloat32(*z->Find("empty")));
  EXPECT_TRUE(e.empty());
  EXPECT_EQ(z->Find("scalar")->numel(), 1);
  ASSERT_OK_AND_ASSIGN(auto s, ToFloat32(*z->Find("scalar")));
  EXPECT_EQ(s, one);
}

TEST(SafetensorsWrite, RejectsBadTensors) {
  const fs::path dir = souk::testing::TempDir("st-bad");
  const std::vector<float> six(6, 1.0f);
  auto expect_invalid = [&](std::vector<TensorToWrite> tensors, const std::string& needle) {
    const fs::path path = dir / "bad.safetensors";
    Status s = WriteSafetensors(path, tensors);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(path.string()), std::string::npos) << s.message();
    EXPECT_FALSE(fs::exists(path));
    EXPECT_FALSE(fs::exists(path.string() + ".tmp"));
  };
  expect_invalid({{"w", DType::kF32, {2, 2}, AsBytes(six)}}, "'w'");       // 24 != 16 bytes
  expect_invalid({{"w", DType::kF16, {2, 3}, AsBytes(six)}}, "needs 12");  // 24 != 12
  expect_invalid({{"w", DType::kF32, {6}, AsBytes(six)}, {"w", DType::kF32, {6}, AsBytes(six)}},
                 "duplicate");
  expect_invalid({{"w", DType::kF32, {-6}, AsBytes(six)}}, "shape");
  expect_invalid({{"", DType::kF32, {6}, AsBytes(six)}}, "empty name");
  expect_invalid({{"__metadata__", DType::kF32, {6}, AsBytes(six)}}, "__metadata__");
  expect_invalid({{"bad\xff", DType::kF32, {6}, AsBytes(six)}}, "UTF-8");
}

// ---------------------------------------------------------------------------
// Corrupted files: a clear error naming the file, never a crash.

class SafetensorsCorrupt : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = souk::testing::TempDir("st-corrupt");
    const std::vector<float> a = SampleValues(12, 2);
    const std::vector<float> b = SampleValues(4, 3);
    const std::vector<TensorToWrite> tensors = {{"a", DType::kF32, {3, 4}, AsBytes(a)},
                                                {"b", DType::kF32, {4}, AsBytes(b)}};
    ASSERT_OK(WriteSafetensors(dir_ / "good.safetensors", tensors, {{"k", "v"}}));
    good_ = ReadBytes(dir_ / "good.safetensors");
    header_len_ = HeaderLength(good_);
  }

  // Writes `bytes` and expects Open to fail with `code` and a message naming
  // the file and containing `needle`.
  void ExpectError(const std::vector<uint8_t>& bytes, StatusCode code, const std::string& needle) {
    const fs::path path = dir_ / ("bad" + std::to_string(count_++) + ".safetensors");
    WriteBytes(path, bytes);
    auto r = SafetensorsFile::Open(path);
    ASSERT_FALSE(r.ok()) << "accepted " << path;
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(path.string()), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
    // The in-memory path agrees.
    auto m = SafetensorsFile::FromBytes(bytes, "mem");
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), code);
  }

  fs::path dir_;
  std::vector<uint8_t> good_;
  uint64_t header_len_ = 0;
  int count_ = 0;
};

TEST_F(SafetensorsCorrupt, GoodFileOpens) {
  ASSERT_OK_AND_ASSIGN(auto f, SafetensorsFile::Open(dir_ / "good.safetensors"));
  EXPECT_EQ(f->tensors().size(), 2u);
  EXPECT_EQ(f->metadata().at("k"), "v");
}

TEST_F(SafetensorsCorrupt, TruncatedAtSeveralSizes) {
  const size_t data_start = 8 + header_len_;
  for (size_t size :
       {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{9}, data_start / 2, data_start - 1,
        data_start, data_start + 1, data_start + 48, good_.size() - 1}) {
    SCOPED_TRACE(size);
    std::vector<uint8_t> cut(good_.begin(), good_.begin() + static_cast<long>(size));
    ExpectError(cut, StatusCode::kDataLoss, "truncated");
  }
  ExpectError({}, StatusCode::kDataLoss, "8-byte");
}

TEST_F(SafetensorsCorrupt, HeaderLengths) {
  std::vector<uint8_t> b = good_;
  const uint64_t too_long = good_.size();  // beyond the end of the file
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(too_long >> (8 * i));
  ExpectError(b, StatusCode::kDataLoss, "header of");
  b = good_;
  b[5] = 1;  // 2^40 bytes
  ExpectError(b, StatusCode::kInvalidArgument, "100 MB");
  b = good_;
  for (int i = 0; i < 8; ++i) b[i] = 0xff;
  ExpectError(b, StatusCode::kInvalidArgument, "100 MB");
  // A header length shorter than the real header cuts the JSON.
  b = good_;
  b[0] = static_cast<uint8_t>(header_len_ - 8);
  ExpectError(b, StatusCode::kInvalidArgument, "JSON");
  ExpectError(MakeFile("", 0), StatusCode::kInvalidArgument, "'{'");
}

TEST_F(SafetensorsCorrupt, GarbageHeaders) {
  std::vector<uint8_t> b = good_;
  for (size_t i = 8; i < 8 + header_len_; ++i) b[i] = 'x';
  ExpectError(b, StatusCode::kInvalidArgument, "JSON");
  b = good_;
  b[8 + header_len_ / 2] = 0;  // a NUL inside the JSON
  ExpectError(b, StatusCode::kInvalidArgument, "JSON");
  ExpectError(MakeFile("[1, 2]", 0), StatusCode::kInvalidArgument, "'{'");
  ExpectError(MakeFile("{\"a\": 1", 0), StatusCode::kInvalidArgument, "JSON");
  ExpectError(MakeFile("{} {}", 0), StatusCode::kInvalidArgument, "JSON");
  ExpectError(MakeFile("{\"a\": 1}", 0), StatusCode::kInvalidArgument, "not an object");
  ExpectError(MakeFile("{\"__metadata__\": {\"k\": 1}}", 0), StatusCode::kInvalidArgument,
              "not a string");
  ExpectError(MakeFile("{\"__metadata__\": [1]}", 0), StatusCode::kInvalidArgument, "__metadata__");
}

TEST_F(SafetensorsCorrupt, BadTensorEntries) {
  auto entry = [](const std::string& name, const std::string& body) {
    return "{\"" + name + "\": {" + body + "}}";
  };
  const auto k = StatusCode::kInvalidArgument;
  ExpectError(MakeFile(entry("t", "\"shape\": [2], \"data_offsets\": [0, 8]"), 8), k, "\"dtype\"");
  ExpectError(MakeFile(entry("t", "\"dtype\": \"F32\", \"data_offsets\": [0, 8]"), 8), k,
              "\"shape\"");
  ExpectError(MakeFile(entry("t", "\"dtype\": \"F32\", \"shape\": [2]"), 8), k, "data_offsets");
  ExpectError(
      MakeFile(entry("t", "\"dtype\": \"F33\", \"shape\": [2], \"data_offsets\": [0, 8]"), 8), k,
      "F33");
  ExpectError(MakeFile(entry("t", "\"dtype\": 4, \"shape\": [2], \"data_offsets\": [0, 8]"), 8), k,
              "dtype");
  ExpectError(
      MakeFile(entry("t", "\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]"), 8), k,
      "negative");
  ExpectError(
      MakeFile(entry("t", "\"dtype\": \"F32\", \"shape\": [2.5], \"data_offsets\": [0, 10]"), 10),
      k, "shape");
  ExpectError(MakeFile(entry("t", "\"dtype\": \"F32\", \"shape\": 2, \"data_offsets\": [0, 8]"), 8),
              k, "shape");
  ExpectError(
      MakeFile(entry("t", "\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]"), 8), k,
      "begin 8 > end 0");
  ExpectError(MakeFile(entry("t", "\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0]"), 8),
              k, "data_offsets");
  ExpectError(
      MakeFile(entry("t", "\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, -8]"), 8), k,
      "data_offsets");
  // Wrong byte size: 2 floats need 8 bytes, not 12.
  ExpectError(
      MakeFile(entry("t", "\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 12]"), 12), k,
      "needs 8 bytes");
  // Shapes whose byte size overflows 64 bits.
  ExpectError(MakeFile(entry("t",
                             "\"dtype\": \"F64\", \"shape\": [4294967296, 4294967296], "
                             "\"data_offsets\": [0, 8]"),
                       8),
              k, "overflows");
  // Offsets beyond the data section: the file is truncated.
  ExpectError(
      MakeFile(entry("t", "\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]"), 4),
      StatusCode::kDataLoss, "'t'");
  ExpectError(MakeFile(entry("t",
                             "\"dtype\": \"U8\", \"shape\": [1], "
                             "\"data_offsets\": [18446744073709551614, 18446744073709551615]"),
                       4),
              StatusCode::kDataLoss, "'t'");
}

TEST_F(SafetensorsCorrupt, LayoutOfTheDataSection) {
  const auto k = StatusCode::kInvalidArgument;
  const std::string a = "\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}";
  // Overlapping tensors.
  ExpectError(MakeFile("{" + a +
                           ", \"b\": {\"dtype\": \"F32\", \"shape\": [2], "
                           "\"data_offsets\": [4, 12]}}",
                       12),
              k, "overlaps");
  ExpectError(MakeFile("{" + a +
                           ", \"b\": {\"dtype\": \"F32\", \"shape\": [2], "
                           "\"data_offsets\": [0, 8]}}",
                       8),
              k, "overlaps");
  // A gap between tensors, and bytes after the last one.
  ExpectError(MakeFile("{" + a +
                           ", \"b\": {\"dtype\": \"F32\", \"shape\": [1], "
                           "\"data_offsets\": [12, 16]}}",
                       16),
              k, "gap");
  ExpectError(MakeFile("{" + a + "}", 9), k, "after the last tensor");
  // Duplicate names (a JSON parser would silently keep one).
  ExpectError(MakeFile("{" + a + ", " + a + "}", 8), k, "duplicate");
  // Out-of-order header entries are fine when the data is tiled.
  const std::vector<uint8_t> ok = MakeFile(
      "{\"b\": {\"dtype\": \"I16\", \"shape\": [2], \"data_offsets\": [8, 12]}, " + a + "}", 12);
  ASSERT_OK_AND_ASSIGN(auto f, SafetensorsFile::FromBytes(ok, "ok"));
  ASSERT_EQ(f->tensors().size(), 2u);
  EXPECT_EQ(f->tensors()[0].name, "a");
  EXPECT_EQ(f->tensors()[1].name, "b");
}

TEST_F(SafetensorsCorrupt, NotAFile) {
  auto missing = SafetensorsFile::Open(dir_ / "absent.safetensors");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("absent.safetensors"), std::string::npos);
  auto folder = SafetensorsFile::Open(dir_);
  ASSERT_FALSE(folder.ok());
  EXPECT_NE(folder.status().message().find(dir_.string()), std::string::npos);
}

// Random byte flips of a valid file: either an error or a consistent file.
TEST_F(SafetensorsCorrupt, RandomMutationsNeverCrash) {
  std::mt19937 rng(7);
  int accepted = 0;
  for (int round = 0; round < 3000; ++round) {
    std::vector<uint8_t> b = good_;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      const size_t pos = rng() % (round % 2 ? 8 + header_len_ : b.size());
      b[pos] = static_cast<uint8_t>(rng());
    }
    if (round % 5 == 0) b.resize(rng() % b.size());
    auto r = SafetensorsFile::FromBytes(b, "mutant");
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("mutant"), std::string::npos) << r.status().message();
      continue;
    }
    ++accepted;
    size_t total = 0;
    for (const TensorView& t : (*r)->tensors()) {
      ASSERT_EQ(t.nbytes, static_cast<size_t>(t.numel()) * DTypeSize(t.dtype));
      total += t.nbytes;
      auto f = ToFloat32(t);  // must not read out of bounds (ASan)
      if (f.ok()) {
        ASSERT_EQ(f->size(), static_cast<size_t>(t.numel()));
      }
    }
    ASSERT_LE(total, b.size());
  }
  EXPECT_GT(accepted, 0);  // flips in the data section keep the file valid
}

// ---------------------------------------------------------------------------
// float16 / bfloat16 conversions.

TEST(HalfConversion, ExactOnEveryRepresentableValue) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = HalfToFloat(static_cast<uint16_t>(h));
    const bool nan = (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0;
    if (nan) {
      ASSERT_TRUE(std::isnan(f)) << h;
      ASSERT_TRUE(std::isnan(HalfToFloat(FloatToHalf(f)))) << h;
      continue;
    }
    ASSERT_EQ(FloatToHalf(f), h) << std::hex << h << " " << f;
  }
  EXPECT_EQ(HalfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(HalfToFloat(0xc000), -2.0f);
  EXPECT_EQ(HalfToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(HalfToFloat(0x0001), 0x1p-24f);
  EXPECT_EQ(HalfToFloat(0x0400), 0x1p-14f);
}

TEST(HalfConversion, RoundsToNearestEven) {
  EXPECT_EQ(FloatToHalf(1.0f + 0x1p-11f), 0x3c00);             // tie -> even (down)
  EXPECT_EQ(FloatToHalf(1.0f + 3 * 0x1p-11f), 0x3c02);         // tie -> even (up)
  EXPECT_EQ(FloatToHalf(1.0f + 0x1p-11f + 0x1p-20f), 0x3c01);  // above the tie
  EXPECT_EQ(FloatToHalf(1.0f + 0x1p-11f - 0x1p-20f), 0x3c00);  // below the tie
  EXPECT_EQ(FloatToHalf(-1.0f - 3 * 0x1p-11f), 0xbc02);
  EXPECT_EQ(FloatToHalf(65519.0f), 0x7bff);
  EXPECT_EQ(FloatToHalf(65520.0f), 0x7c00);  // tie with an odd mantissa -> infinity
  EXPECT_EQ(FloatToHalf(1e10f), 0x7c00);
  EXPECT_EQ(FloatToHalf(-1e10f), 0xfc00);
  // Subnormals.
  EXPECT_EQ(FloatToHalf(0x1p-25f), 0x0000);  // tie with 0 -> 0
  EXPECT_EQ(FloatToHalf(0x1p-25f * 1.0001f), 0x0001);
  EXPECT_EQ(FloatToHalf(1.5f * 0x1p-24f), 0x0002);      // tie -> even
  EXPECT_EQ(FloatToHalf(2.5f * 0x1p-24f), 0x0002);      // tie -> even
  EXPECT_EQ(FloatToHalf(0x1p-14f - 0x1p-25f), 0x0400);  // tie between 0x3ff and the first normal
  EXPECT_EQ(FloatToHalf(1e-30f), 0x0000);
  EXPECT_EQ(FloatToHalf(-1e-30f), 0x8000);
  EXPECT_EQ(FloatToHalf(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(FloatToHalf(-0.0f), 0x8000);
}

#if defined(__FLT16_MAX__)
// Cross-check with the compiler's own _Float16 conversion on random floats.
TEST(HalfConversion, AgreesWithFloat16Type) {
  std::mt19937 rng(11);
  for (int i = 0; i < 300000; ++i) {
    uint32_t bits = rng();
    if (i % 2) bits = (bits & 0x83ffffffu) | ((0x60u + rng() % 0x30u) << 23);  // near half range
    float f;
    std::memcpy(&f, &bits, 4);
    if (std::isnan(f)) continue;
    const _Float16 h = static_cast<_Float16>(f);
    uint16_t expected;
    std::memcpy(&expected, &h, 2);
    ASSERT_EQ(FloatToHalf(f), expected) << std::hexfloat << f;
  }
}
#endif

TEST(HalfConversion, InfinityAndNan) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(FloatToHalf(inf), 0x7c00);
  EXPECT_EQ(FloatToHalf(-inf), 0xfc00);
  EXPECT_EQ(HalfToFloat(0x7c00), inf);
  EXPECT_EQ(HalfToFloat(0xfc00), -inf);
  EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(nan))));
  EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(-nan))));
  // A signaling NaN whose payload sits in the low bits stays a NaN.
  float snan;
  const uint32_t snan_bits = 0x7f800001u;
  std::memcpy(&snan, &snan_bits, 4);
  EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(snan))));
  EXPECT_TRUE(std::isnan(Bf16ToFloat(FloatToBf16(snan))));

  EXPECT_EQ(FloatToBf16(inf), 0x7f80);
  EXPECT_EQ(FloatToBf16(-inf), 0xff80);
  EXPECT_EQ(Bf16ToFloat(0x7f80), inf);
  EXPECT_TRUE(std::isnan(Bf16ToFloat(FloatToBf16(nan))));
  EXPECT_EQ(FloatToBf16(std::numeric_limits<float>::max()), 0x7f80);  // rounds up to infinity
}

TEST(Bf16Conversion, ExactAndRoundsToNearestEven) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = Bf16ToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(FloatToBf16(f), h) << std::hex << h;
  }
  EXPECT_EQ(FloatToBf16(1.0f), 0x3f80);
  EXPECT_EQ(FloatToBf16(1.0f + 0x1p-8f), 0x3f80);      // tie -> even (down)
  EXPECT_EQ(FloatToBf16(1.0f + 3 * 0x1p-8f), 0x3f82);  // tie -> even (up)
  EXPECT_EQ(FloatToBf16(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81);
  EXPECT_EQ(FloatToBf16(-2.0f), 0xc000);
  EXPECT_EQ(FloatToBf16(0x1p-130f), 0x0008);  // float subnormals stay subnormal
}

// ---------------------------------------------------------------------------
// config.json

TEST(BertConfigTest, RealConfigs) {
  REQUIRE_MODEL(models, "all-MiniLM-L6-v2/config.json");
  ASSERT_OK_AND_ASSIGN(BertConfig mini,
                       BertConfig::FromJsonFile(models.parent_path() / "config.json"));
  EXPECT_EQ(mini.vocab_size, 30522);
  EXPECT_EQ(mini.hidden_size, 384);
  EXPECT_EQ(mini.num_hidden_layers, 6);
  EXPECT_EQ(mini.num_attention_heads, 12);
  EXPECT_EQ(mini.head_dim(), 32);
  EXPECT_EQ(mini.intermediate_size, 1536);
  EXPECT_EQ(mini.max_position_embeddings, 512);
  EXPECT_EQ(mini.type_vocab_size, 2);
  EXPECT_EQ(mini.pad_token_id, 0);
  EXPECT_EQ(mini.layer_norm_eps, 1e-12f);
  EXPECT_EQ(mini.hidden_act, "gelu");
  EXPECT_EQ(mini.model_type, "bert");
  ASSERT_OK_AND_ASSIGN(HiddenAct act, mini.activation());
  EXPECT_EQ(act, HiddenAct::kGelu);

  REQUIRE_MODEL(gte, "gte-small/config.json");
  ASSERT_OK_AND_ASSIGN(BertConfig g, BertConfig::FromJsonFile(gte));
  EXPECT_EQ(g.vocab_size, 30522);
  EXPECT_EQ(g.hidden_size, 384);
  EXPECT_EQ(g.num_hidden_layers, 12);
  EXPECT_EQ(g.num_attention_heads, 12);
  EXPECT_EQ(g.intermediate_size, 1536);
  EXPECT_EQ(g.max_position_embeddings, 512);

  REQUIRE_MODEL(m3e, "m3e-small-zh/config.json");
  ASSERT_OK_AND_ASSIGN(BertConfig m, BertConfig::FromJsonFile(m3e));
  EXPECT_EQ(m.vocab_size, 21128);
  EXPECT_EQ(m.hidden_size, 512);
  EXPECT_EQ(m.num_hidden_layers, 4);
  EXPECT_EQ(m.num_attention_heads, 8);
  EXPECT_EQ(m.head_dim(), 64);
  EXPECT_EQ(m.intermediate_size, 2048);
  EXPECT_EQ(m.type_vocab_size, 2);
  EXPECT_EQ(m.layer_norm_eps, 1e-12f);
}

void ExpectSameConfig(const BertConfig& a, const BertConfig& b) {
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_EQ(a.hidden_size, b.hidden_size);
  EXPECT_EQ(a.num_hidden_layers, b.num_hidden_layers);
  EXPECT_EQ(a.num_attention_heads, b.num_attention_heads);
  EXPECT_EQ(a.intermediate_size, b.intermediate_size);
  EXPECT_EQ(a.max_position_embeddings, b.max_position_embeddings);
  EXPECT_EQ(a.type_vocab_size, b.type_vocab_size);
  EXPECT_EQ(a.pad_token_id, b.pad_token_id);
  EXPECT_EQ(a.layer_norm_eps, b.layer_norm_eps);
  EXPECT_EQ(a.hidden_act, b.hidden_act);
  EXPECT_EQ(a.model_type, b.model_type);
}

TEST(BertConfigTest, ToJsonRoundTrip) {
  BertConfig c;
  c.vocab_size = 1000;
  c.hidden_size = 64;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.intermediate_size = 128;
  c.max_position_embeddings = 40;
  c.type_vocab_size = 1;
  c.pad_token_id = 3;
  c.layer_norm_eps = 1e-5f;
  c.hidden_act = "gelu_pytorch_tanh";
  ASSERT_OK(c.Validate());
  const std::string json = c.ToJson();
  EXPECT_NE(json.find("\"architectures\": [\n    \"BertModel\"\n  ]"), std::string::npos) << json;
  EXPECT_NE(json.find("\"layer_norm_eps\": 1e-05"), std::string::npos) << json;
  EXPECT_NE(json.find("\"position_embedding_type\": \"absolute\""), std::string::npos) << json;
  ASSERT_OK_AND_ASSIGN(BertConfig back, BertConfig::FromJson(json, "roundtrip"));
  ExpectSameConfig(c, back);
  ASSERT_OK_AND_ASSIGN(HiddenAct act, back.activation());
  EXPECT_EQ(act, HiddenAct::kGeluTanh);

  ASSERT_OK_AND_ASSIGN(BertConfig defaults, BertConfig::FromJson(BertConfig().ToJson(), "d"));
  ExpectSameConfig(BertConfig(), defaults);
  EXPECT_NE(BertConfig().ToJson().find("\"layer_norm_eps\": 1e-12"), std::string::npos);
  // Absent keys keep the defaults.
  ASSERT_OK_AND_ASSIGN(BertConfig empty, BertConfig::FromJson("{}", "empty"));
  ExpectSameConfig(BertConfig(), empty);
}

TEST(BertConfigTest, UnsupportedOptionsNameFileAndKey) {
  const fs::path dir = souk::testing::TempDir("bert-config");
  struct Case {
    std::string json;
    std::string key;
  };
  const std::vector<Case> cases = {
      {R"({"position_embedding_type": "relative_key"})", "position_embedding_type"},
      {R"({"hidden_act": "swish2"})", "hidden_act"},
      {R"({"model_type": "gpt2"})", "model_type"},
      {R"({"model_type": "roberta"})", "model_type"},
      {R"({"hidden_size": 384, "num_attention_heads": 5})", "num_attention_heads"},
      {R"({"is_decoder": true})", "is_decoder"},
      {R"({"add_cross_attention": true})", "add_cross_attention"},
      {R"({"hidden_size": "384"})", "hidden_size"},
      {R"({"num_hidden_layers": 0})", "num_hidden_layers"},
      {R"({"vocab_size": 99999999999})", "vocab_size"},
      {R"({"vocab_size": 2.5})", "vocab_size"},
      {R"({"pad_token_id": 40000})", "pad_token_id"},
      {R"({"layer_norm_eps": -1})", "layer_norm_eps"},
      {R"({"layer_norm_eps": "x"})", "layer_norm_eps"},
      {R"({"is_decoder": "no"})", "is_decoder"},
      {R"([1, 2])", "JSON object"},
      {R"({"vocab_size": )", "JSON"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].json);
    const fs::path file = dir / ("config" + std::to_string(i) + ".json");
    WriteText(file, cases[i].json);
    auto r = BertConfig::FromJsonFile(file);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find(file.string()), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(cases[i].key), std::string::npos) << r.status().message();
  }
  auto missing = BertConfig::FromJsonFile(dir / "nope.json");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope.json"), std::string::npos);
  // Every supported activation parses.
  const std::pair<const char*, HiddenAct> acts[] = {{"gelu", HiddenAct::kGelu},
                                                    {"gelu_new", HiddenAct::kGeluTanh},
                                                    {"gelu_pytorch_tanh", HiddenAct::kGeluTanh},
                                                    {"gelu_fast", HiddenAct::kGeluTanh},
                                                    {"relu", HiddenAct::kRelu},
                                                    {"silu", HiddenAct::kSilu},
                                                    {"swish", HiddenAct::kSilu}};
  for (const auto& [name, act] : acts) {
    ASSERT_OK_AND_ASSIGN(
        BertConfig c,
        BertConfig::FromJson(std::string("{\"hidden_act\": \"") + name + "\"}", name));
    EXPECT_EQ(c.activation().value(), act) << name;
  }
  EXPECT_FALSE(ParseHiddenAct("gelu_10").ok());
}

// ---------------------------------------------------------------------------
// Model folders

TEST(ModelFolderTest, MiniLM) {
  REQUIRE_MODEL(dir, "all-MiniLM-L6-v2");
  ASSERT_OK_AND_ASSIGN(ModelFolder f, InspectModelFolder(dir, /*allow_missing_weights=*/true));
  EXPECT_EQ(f.dir, dir);
  EXPECT_EQ(f.transformer_dir, dir);
  EXPECT_EQ(f.config.hidden_size, 384);
  EXPECT_EQ(f.config.num_hidden_layers, 6);
  EXPECT_EQ(f.pooling.mode, PoolingMode::kMean);
  EXPECT_TRUE(f.pooling.normalize);  // modules.json lists a Normalize module
  EXPECT_EQ(f.pooling.ToString(), "mean+normalize");
  EXPECT_EQ(f.max_seq_length, 256);
  EXPECT_TRUE(f.weights.empty());

  auto strict = InspectModelFolder(dir);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().code(), StatusCode::kNotFound) << strict.status().ToString();
  EXPECT_NE(strict.status().message().find((dir / "model.safetensors").string()), std::string::npos)
      << strict.status().message();
}

TEST(ModelFolderTest, M3eAndGte) {
  REQUIRE_MODEL(m3e, "m3e-small-zh");
  ASSERT_OK_AND_ASSIGN(ModelFolder m, InspectModelFolder(m3e, true));
  EXPECT_EQ(m.config.vocab_size, 21128);
  EXPECT_EQ(m.pooling.mode, PoolingMode::kMean);
  EXPECT_FALSE(m.pooling.normalize);
  EXPECT_EQ(m.pooling.ToString(), "mean");
  EXPECT_EQ(m.max_seq_length, 512);
  auto strict = InspectModelFolder(m3e);
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find("model.safetensors"), std::string::npos);

  REQUIRE_MODEL(gte, "gte-small");
  ASSERT_OK_AND_ASSIGN(ModelFolder g, InspectModelFolder(gte, true));  // no modules.json
  EXPECT_EQ(g.config.num_hidden_layers, 12);
  EXPECT_EQ(g.pooling.mode, PoolingMode::kMean);
  EXPECT_FALSE(g.pooling.normalize);
  EXPECT_EQ(g.max_seq_length, 0);
}

// Builds a sentence-transformers folder in a temp dir from small pieces.
class ModelFolderFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = souk::testing::TempDir("model-folder");
    BertConfig c;
    c.vocab_size = 100;
    c.hidden_size = 16;
    c.num_hidden_layers = 1;
    c.num_attention_heads = 2;
    c.intermediate_size = 32;
    c.max_position_embeddings = 64;
    WriteText(dir_ / "config.json", c.ToJson());
    WriteModules({"Transformer", "Pooling", "Normalize"});
    WritePooling("\"pooling_mode_cls_token\": true, \"pooling_mode_mean_tokens\": false");
    WriteText(dir_ / "sentence_bert_config.json",
              R"({"max_seq_length": 48, "do_lower_case": false})");
  }

  void WriteModules(const std::vector<std::string>& types) {
    std::string json = "[";
    for (size_t i = 0; i < types.size(); ++i) {
      const std::string path = types[i] == "Transformer" ? "" : std::to_string(i) + "_" + types[i];
      if (i) json += ",";
      json += "{\"idx\": " + std::to_string(i) + ", \"name\": \"" + std::to_string(i) +
              "\", \"path\": \"" + path + "\", \"type\": \"sentence_transformers.models." +
              types[i] + "\"}";
    }
    WriteText(dir_ / "modules.json", json + "]");
  }
  void WritePooling(const std::string& flags) {
    WriteText(dir_ / "1_Pooling" / "config.json",
              "{\"word_embedding_dimension\": 16, " + flags + "}");
  }
  Status Inspect(std::string needle, StatusCode code) {
    auto r = InspectModelFolder(dir_, true);
    EXPECT_FALSE(r.ok());
    if (r.ok()) return OkStatus();
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
    return r.status();
  }

  fs::path dir_;
};

TEST_F(ModelFolderFiles, ClsPoolingAndWeights) {
  ASSERT_OK_AND_ASSIGN(ModelFolder f, InspectModelFolder(dir_, true));
  EXPECT_EQ(f.pooling.mode, PoolingMode::kCls);
  EXPECT_TRUE(f.pooling.normalize);
  EXPECT_EQ(f.pooling.ToString(), "cls+normalize");
  EXPECT_EQ(f.max_seq_length, 48);
  EXPECT_EQ(f.config.hidden_size, 16);

  // Only pytorch_model.bin: FailedPrecondition explaining the conversion.
  WriteText(dir_ / "pytorch_model.bin", "PK\x03\x04 not really");
  auto bin = InspectModelFolder(dir_);
  ASSERT_FALSE(bin.ok());
  EXPECT_EQ(bin.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(bin.status().message().find("model.safetensors"), std::string::npos);
  EXPECT_NE(bin.status().message().find("pytorch_model.bin"), std::string::npos);
  EXPECT_NE(bin.status().message().find("safe_serialization=True"), std::string::npos);
  // With the weights present they are found.
  const std::vector<float> w(4, 0.5f);
  const std::vector<TensorToWrite> t = {{"w", DType::kF32, {4}, AsBytes(w)}};
  ASSERT_OK(WriteSafetensors(dir_ / "model.safetensors", t));
  ASSERT_OK_AND_ASSIGN(ModelFolder g, InspectModelFolder(dir_));
  EXPECT_EQ(g.weights, dir_ / "model.safetensors");
}

TEST_F(ModelFolderFiles, MaxPoolingWithoutNormalize) {
  WriteModules({"Transformer", "Pooling"});
  WritePooling("\"pooling_mode_max_tokens\": true");
  ASSERT_OK_AND_ASSIGN(ModelFolder f, InspectModelFolder(dir_, true));
  EXPECT_EQ(f.pooling.mode, PoolingMode::kMax);
  EXPECT_FALSE(f.pooling.normalize);
  EXPECT_EQ(f.pooling.ToString(), "max");
}

TEST_F(ModelFolderFiles, OldLayoutWithTransformerFolder) {
  const fs::path t = dir_ / "0_Transformer";
  fs::create_directories(t);
  fs::rename(dir_ / "config.json", t / "config.json");
  fs::rename(dir_ / "sentence_bert_config.json", t / "sentence_bert_config.json");
  WriteText(
      dir_ / "modules.json",
      R"([{"idx": 0, "name": "0", "path": "0_Transformer", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}])");
  ASSERT_OK_AND_ASSIGN(ModelFolder f, InspectModelFolder(dir_, true));
  EXPECT_EQ(f.transformer_dir, t);
  EXPECT_EQ(f.max_seq_length, 48);
  EXPECT_EQ(f.pooling.mode, PoolingMode::kCls);
  auto strict = InspectModelFolder(dir_);
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find((t / "model.safetensors").string()), std::string::npos);
}

TEST_F(ModelFolderFiles, UnsupportedPoolingAndModules) {
  const std::string pooling_file = (dir_ / "1_Pooling" / "config.json").string();
  WritePooling("\"pooling_mode_cls_token\": true, \"pooling_mode_mean_tokens\": true");
  (void)Inspect(pooling_file, StatusCode::kInvalidArgument);
  (void)Inspect("exactly one", StatusCode::kInvalidArgument);
  WritePooling("\"pooling_mode_mean_tokens\": false");
  (void)Inspect("found 0", StatusCode::kInvalidArgument);
  WritePooling("\"pooling_mode_lasttoken\": true");
  (void)Inspect("lasttoken", StatusCode::kInvalidArgument);
  WritePooling("\"pooling_mode_weightedmean_tokens\": true");
  (void)Inspect("weightedmean", StatusCode::kInvalidArgument);
  WritePooling("\"pooling_mode_mean_sqrt_len_tokens\": true");
  (void)Inspect("mean_sqrt_len", StatusCode::kInvalidArgument);
  WritePooling("\"pooling_mode_mean_tokens\": \"yes\"");
  (void)Inspect("pooling_mode_mean_tokens", StatusCode::kInvalidArgument);
  WriteText(dir_ / "1_Pooling" / "config.json",
            R"({"word_embedding_dimension": 384, "pooling_mode_mean_tokens": true})");
  (void)Inspect("word_embedding_dimension", StatusCode::kInvalidArgument);
  fs::remove(dir_ / "1_Pooling" / "config.json");
  (void)Inspect(pooling_file, StatusCode::kNotFound);
  WritePooling("\"pooling_mode_mean_tokens\": true");
  ASSERT_OK(InspectModelFolder(dir_, true).status());

  const std::string modules_file = (dir_ / "modules.json").string();
  WriteModules({"Transformer", "Pooling", "Dense", "Normalize"});
  (void)Inspect("Dense", StatusCode::kInvalidArgument);
  (void)Inspect(modules_file, StatusCode::kInvalidArgument);
  WriteModules({"Transformer"});
  (void)Inspect("Pooling", StatusCode::kInvalidArgument);
  WriteText(dir_ / "modules.json", "{\"not\": \"a list\"}");
  (void)Inspect(modules_file, StatusCode::kInvalidArgument);
  WriteText(dir_ / "modules.json",
            "[{\"path\": \"../x\", \"type\": \"sentence_transformers.models.Pooling\"}]");
  (void)Inspect("inside", StatusCode::kInvalidArgument);
  WriteModules({"Transformer", "Pooling"});
  ASSERT_OK(InspectModelFolder(dir_, true).status());

  const std::string sbert = (dir_ / "sentence_bert_config.json").string();
  WriteText(sbert, R"({"max_seq_length": 65})");  // > max_position_embeddings 64
  (void)Inspect("max_seq_length", StatusCode::kInvalidArgument);
  WriteText(sbert, R"({"max_seq_length": 0})");
  (void)Inspect(sbert, StatusCode::kInvalidArgument);
  WriteText(sbert, R"({"do_lower_case": true})");
  ASSERT_OK_AND_ASSIGN(ModelFolder f, InspectModelFolder(dir_, true));
  EXPECT_EQ(f.max_seq_length, 0);

  WriteText(dir_ / "config.json", R"({"model_type": "gpt2"})");
  (void)Inspect((dir_ / "config.json").string(), StatusCode::kInvalidArgument);
  fs::remove(dir_ / "config.json");
  (void)Inspect((dir_ / "config.json").string(), StatusCode::kNotFound);
  auto no_dir = InspectModelFolder(dir_ / "absent");
  EXPECT_EQ(no_dir.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_dir.status().message().find("absent"), std::string::npos);
}

}  // namespace
}  // namespace souk::lm
