// Tests of the WordPiece tokenizer, the GGUF reader and the WordPiece trainer.
// Expected ids come from the real vocabulary files (looked up by token in the
// test), from llama.cpp's test vectors (generated with Hugging Face), or from
// hand-built inputs; never from running this code.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "common/testing.h"
#include "lm/gguf.h"
#include "lm/wordpiece_tokenizer.h"
#include "lm/wordpiece_trainer.h"

namespace souk::lm {
namespace {

namespace fs = std::filesystem;

fs::path ModelDir(const std::string& rel) {
  fs::path p = fs::path(SOUK_SHARED_DIR) / "models" / rel;
  if (const char* env = std::getenv("SOUK_SHARED_DIR"); env && *env) {
    p = fs::path(env) / "models" / rel;
  }
  std::error_code ec;
  return fs::exists(p, ec) ? p : fs::path();
}

#define SOUK_REQUIRE_MODEL(var, rel)  \
  const fs::path var = ModelDir(rel); \
  if (var.empty()) GTEST_SKIP() << "shared model files missing: " << (rel)

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const fs::path& p, std::string_view data) {
  std::ofstream out(p, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// vocab.txt -> token -> id (line number), independent of the tokenizer.
std::map<std::string, int32_t> ReadVocab(const fs::path& p) {
  std::map<std::string, int32_t> out;
  std::ifstream in(p, std::ios::binary);
  std::string line;
  int32_t id = 0;
  while (std::getline(in, line)) out[line] = id++;
  return out;
}

// Ids of hand-derived pieces, looked up in `vocab` (fails when a piece is absent).
std::vector<int32_t> Ids(const std::map<std::string, int32_t>& vocab,
                         const std::vector<std::string>& pieces) {
  std::vector<int32_t> out;
  for (const auto& p : pieces) {
    auto it = vocab.find(p);
    EXPECT_NE(it, vocab.end()) << "piece not in vocab: " << p;
    out.push_back(it == vocab.end() ? -2 : it->second);
  }
  return out;
}

std::string Escaped(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Protocol G: llama.cpp's BERT tokenizer vectors.

struct VocabCase {
  std::string text;
  std::vector<int32_t> ids;
};

// The .inp file is `text + "\n__ggml_vocab_test__\n"` per case; the .out file
// has one line per case, " id id id" (Hugging Face, add_special_tokens=False).
std::vector<VocabCase> ReadVocabCases(const fs::path& inp, const fs::path& out) {
  const std::string sep = "\n__ggml_vocab_test__\n";
  const std::string all = ReadAll(inp);
  std::vector<VocabCase> cases;
  size_t pos = 0;
  while (true) {
    size_t next = all.find(sep, pos);
    if (next == std::string::npos) break;
    cases.push_back(VocabCase{all.substr(pos, next - pos), {}});
    pos = next + sep.size();
  }
  EXPECT_EQ(pos, all.size()) << "text after the last separator";
  std::ifstream in(out);
  std::string line;
  size_t k = 0;
  while (std::getline(in, line)) {
    EXPECT_LT(k, cases.size());
    if (k >= cases.size()) break;
    std::istringstream ls(line);
    int32_t id;
    while (ls >> id) cases[k].ids.push_back(id);
    ++k;
  }
  EXPECT_EQ(k, cases.size()) << ".out lines vs .inp cases";
  return cases;
}

void ExpectVectors(const WordPieceTokenizer& tok, const std::vector<VocabCase>& cases,
                   const std::string& label) {
  int matched = 0;
  for (const VocabCase& c : cases) {
    const std::vector<int32_t> got = tok.Encode(c.text, /*add_special_tokens=*/false, 0);
    if (got == c.ids) {
      ++matched;
    } else {
      ADD_FAILURE() << label << ": mismatch for \"" << Escaped(c.text) << "\"";
    }
  }
  EXPECT_EQ(matched, static_cast<int>(cases.size())) << label;
  std::printf("[ info ] %s: %d/%zu test vectors match\n", label.c_str(), matched, cases.size());
}

TEST(GgufVocabParity, AllVectorsMatchFromGgufAndVocabTxt) {
  SOUK_REQUIRE_MODEL(dir, "ggml-vocab-bert-bge/models");
  const fs::path gguf = dir / "ggml-vocab-bert-bge.gguf";
  const auto cases =
      ReadVocabCases(dir / "ggml-vocab-bert-bge.gguf.inp", dir / "ggml-vocab-bert-bge.gguf.out");
  // The files hold 46 cases (46 separators, 46 output lines); no output line
  // carries [CLS] (101) or [SEP] (102): the vectors are without specials.
  ASSERT_EQ(cases.size(), 46u);
  for (const auto& c : cases) {
    for (int32_t id : c.ids) {
      EXPECT_NE(id, 101);
      EXPECT_NE(id, 102);
    }
  }
  ASSERT_OK_AND_ASSIGN(WordPieceTokenizer from_gguf, WordPieceTokenizer::FromGguf(gguf));
  EXPECT_EQ(from_gguf.vocab_size(), 30522);
  EXPECT_EQ(from_gguf.cls_id(), 101);
  EXPECT_EQ(from_gguf.sep_id(), 102);
  EXPECT_EQ(from_gguf.unk_id(), 100);
  EXPECT_EQ(from_gguf.pad_id(), 0);
  ExpectVectors(from_gguf, cases, "gguf");

  // The same vocabulary as vocab.txt.
  ASSERT_OK_AND_ASSIGN(GgufFile file, GgufFile::Open(gguf));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> tokens,
                       file.GetStringArray("tokenizer.ggml.tokens"));
  const fs::path tmp = testing::TempDir("gguf-vocab");
  // llama.cpp stores the vocabulary in phantom-space form.
  EXPECT_EQ(tokens[7592], "\u2581hello");
  EXPECT_EQ(tokens[2050], "a");  // "##a"
  EXPECT_EQ(tokens[101], "[CLS]");
  EXPECT_EQ(from_gguf.Token(7592), "hello");
  EXPECT_EQ(from_gguf.Token(2050), "##a");
  std::string vocab;
  for (const auto& t : from_gguf.tokens()) vocab += t + "\n";
  WriteAll(tmp / "vocab.txt", vocab);
  ASSERT_OK_AND_ASSIGN(WordPieceTokenizer from_txt,
                       WordPieceTokenizer::FromVocabFile(tmp / "vocab.txt", WordPieceOptions{}));
  EXPECT_EQ(from_txt.tokens(), from_gguf.tokens());
  ExpectVectors(from_txt, cases, "vocab.txt");
  // And with the specials added: [CLS] ids [SEP].
  for (const auto& c : cases) {
    std::vector<int32_t> want = {101};
    want.insert(want.end(), c.ids.begin(), c.ids.end());
    want.push_back(102);
    EXPECT_EQ(from_txt.Encode(c.text, true, 0), want);
  }
}

TEST(Gguf, ReadsMetadataOfTheBgeVocabFile) {
  SOUK_REQUIRE_MODEL(dir, "ggml-vocab-bert-bge/models");
  ASSERT_OK_AND_ASSIGN(GgufFile f, GgufFile::Open(dir / "ggml-vocab-bert-bge.gguf"));
  EXPECT_EQ(f.version(), 3u);
  EXPECT_TRUE(f.Has("tokenizer.ggml.tokens"));
  ASSERT_OK_AND_ASSIGN(std::string model, f.GetString("tokenizer.ggml.model"));
  EXPECT_EQ(model, "bert");
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> tokens, f.GetStringArray("tokenizer.ggml.tokens"));
  ASSERT_EQ(tokens.size(), 30522u);
  ASSERT_OK_AND_ASSIGN(int64_t ctx, f.GetInt("bert.context_length"));
  EXPECT_EQ(ctx, 512);
  // The bge-small-en vocabulary is BERT uncased: once converted back from
  // phantom-space form it equals all-MiniLM's vocab.txt id for id.
  SOUK_REQUIRE_MODEL(mini, "all-MiniLM-L6-v2");
  ASSERT_OK_AND_ASSIGN(auto tok, WordPieceTokenizer::FromGguf(dir / "ggml-vocab-bert-bge.gguf"));
  EXPECT_EQ(tok.options().max_length, 512);
  const auto vocab = ReadVocab(mini / "vocab.txt");
  int same = 0;
  for (int32_t i = 0; i < tok.vocab_size(); ++i) {
    auto it = vocab.find(tok.Token(i));
    same += it != vocab.end() && it->second == i;
  }
  EXPECT_EQ(same, 30522);
  ASSERT_OK_AND_ASSIGN(int64_t cls, f.GetInt("tokenizer.ggml.cls_token_id"));
  EXPECT_EQ(cls, 101);
  EXPECT_EQ(f.GetInt("tokenizer.ggml.model").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f.GetString("no.such.key").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(f.tensors().empty());
  EXPECT_FALSE(f.keys().empty());
}

// A little-endian GGUF writer for hand-built files.
class GgufBuilder {
 public:
  explicit GgufBuilder(uint32_t version = 3) {
    Pod(uint32_t{0x46554747});
    Pod(version);
  }
  template <typename T>
  void Pod(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    bytes_.append(b, sizeof(T));
  }
  void Str(std::string_view s) {
    Pod(uint64_t{s.size()});
    bytes_.append(s);
  }
  void Counts(uint64_t tensors, uint64_t kvs) {
    Pod(tensors);
    Pod(kvs);
  }
  void Key(std::string_view k, GgufType t) {
    Str(k);
    Pod(static_cast<uint32_t>(t));
  }
  std::string& bytes() { return bytes_; }

 private:
  std::string bytes_;
};

std::string HandBuiltGguf() {
  GgufBuilder b;
  b.Counts(/*tensors=*/2, /*kvs=*/9);
  b.Key("u8", GgufType::kUint8);
  b.Pod(uint8_t{200});
  b.Key("i16", GgufType::kInt16);
  b.Pod(int16_t{-300});
  b.Key("u64", GgufType::kUint64);
  b.Pod(uint64_t{1} << 40);
  b.Key("f32", GgufType::kFloat32);
  b.Pod(1.5f);
  b.Key("flag", GgufType::kBool);
  b.Pod(uint8_t{1});
  b.Key("name", GgufType::kString);
  b.Str("tiny");
  b.Key("words", GgufType::kArray);
  b.Pod(static_cast<uint32_t>(GgufType::kString));
  b.Pod(uint64_t{3});
  b.Str("a");
  b.Str("");
  b.Str("ccc");
  b.Key("ints", GgufType::kArray);
  b.Pod(static_cast<uint32_t>(GgufType::kInt32));
  b.Pod(uint64_t{2});
  b.Pod(int32_t{-7});
  b.Pod(int32_t{9});
  b.Key("general.alignment", GgufType::kUint32);
  b.Pod(uint32_t{16});
  // tensors: "w" [4, 2] F32 at 0, "b" [4] F16 at 32.
  b.Str("w");
  b.Pod(uint32_t{2});
  b.Pod(uint64_t{4});
  b.Pod(uint64_t{2});
  b.Pod(uint32_t{0});
  b.Pod(uint64_t{0});
  b.Str("b");
  b.Pod(uint32_t{1});
  b.Pod(uint64_t{4});
  b.Pod(uint32_t{1});
  b.Pod(uint64_t{32});
  while (b.bytes().size() % 16 != 0) b.bytes().push_back('\0');
  b.bytes().append(48, '\0');  // tensor data
  return b.bytes();
}

TEST(Gguf, HandBuiltFileAllTypesAndTensors) {
  const std::string bytes = HandBuiltGguf();
  ASSERT_OK_AND_ASSIGN(GgufFile f, GgufFile::Parse(bytes, "tiny.gguf"));
  EXPECT_EQ(f.keys().size(), 9u);
  EXPECT_EQ(f.keys()[0], "u8");
  EXPECT_EQ(*f.GetInt("u8"), 200);
  EXPECT_EQ(*f.GetInt("i16"), -300);
  EXPECT_EQ(*f.GetInt("u64"), int64_t{1} << 40);
  EXPECT_DOUBLE_EQ(*f.GetFloat("f32"), 1.5);
  EXPECT_TRUE(*f.GetBool("flag"));
  EXPECT_EQ(*f.GetString("name"), "tiny");
  EXPECT_EQ(*f.GetStringArray("words"), (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_EQ(*f.GetIntArray("ints"), (std::vector<int64_t>{-7, 9}));
  EXPECT_EQ(f.GetStringArray("ints").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f.alignment(), 16u);
  ASSERT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.tensors()[0].name, "w");
  EXPECT_EQ(f.tensors()[0].shape, (std::vector<uint64_t>{4, 2}));
  EXPECT_EQ(f.tensors()[1].ggml_type, 1u);
  EXPECT_EQ(f.tensors()[1].offset, 32u);
  EXPECT_EQ(f.data_offset() % 16, 0u);
  EXPECT_EQ(f.data_offset() + 48, bytes.size());
}

void ExpectCorrupt(const StatusOr<GgufFile>& r, const std::string& name, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what;
  const StatusCode code = r.status().code();
  EXPECT_TRUE(code == StatusCode::kDataLoss || code == StatusCode::kInvalidArgument)
      << what << ": " << r.status().ToString();
  EXPECT_NE(r.status().message().find(name), std::string::npos)
      << what << ": message does not name the file: " << r.status().message();
}

TEST(Gguf, CorruptCopiesGiveClearErrors) {
  const std::string good = HandBuiltGguf();
  // Every truncation point of the header and metadata.
  const fs::path tmp = testing::TempDir("gguf-corrupt");
  for (size_t cut = 0; cut < good.size() - 48; ++cut) {
    ExpectCorrupt(GgufFile::Parse(std::string_view(good).substr(0, cut), "cut.gguf"), "cut.gguf",
                  "truncated at " + std::to_string(cut));
  }
  // Bad magic, unsupported versions.
  std::string bad = good;
  bad[0] = 'X';
  ExpectCorrupt(GgufFile::Parse(bad, "magic.gguf"), "magic.gguf", "bad magic");
  EXPECT_EQ(GgufFile::Parse(bad, "magic.gguf").status().code(), StatusCode::kInvalidArgument);
  for (uint32_t v : {0u, 1u, 4u, 0xFFFFFFFFu}) {
    std::string b = good;
    std::memcpy(&b[4], &v, 4);
    ExpectCorrupt(GgufFile::Parse(b, "version.gguf"), "version.gguf", "version");
  }
  // Huge counts and lengths are rejected before allocation.
  auto patch64 = [&](size_t at, uint64_t v) {
    std::string b = good;
    std::memcpy(&b[at], &v, 8);
    return b;
  };
  ExpectCorrupt(GgufFile::Parse(patch64(8, uint64_t{1} << 60), "n.gguf"), "n.gguf", "tensors");
  ExpectCorrupt(GgufFile::Parse(patch64(16, uint64_t{1} << 60), "n.gguf"), "n.gguf", "kvs");
  ExpectCorrupt(GgufFile::Parse(patch64(24, ~uint64_t{0}), "len.gguf"), "len.gguf", "key length");
  const size_t words = good.find("words");
  ASSERT_NE(words, std::string::npos);
  // "words" + u32 ARRAY + u32 STRING + u64 count.
  ExpectCorrupt(GgufFile::Parse(patch64(words + 5 + 8, uint64_t{1} << 61), "arr.gguf"), "arr.gguf",
                "array count");
  // First string of the array: a huge length.
  ExpectCorrupt(GgufFile::Parse(patch64(words + 5 + 16, uint64_t{1} << 50), "s.gguf"), "s.gguf",
                "string length");
  // Unknown value type.
  {
    std::string b = good;
    const uint32_t t = 77;
    std::memcpy(&b[24 + 8 + 2], &t, 4);  // type of "u8"
    ExpectCorrupt(GgufFile::Parse(b, "type.gguf"), "type.gguf", "unknown type");
  }
  // A tensor offset past the end (the file cut before the tensor data).
  ExpectCorrupt(GgufFile::Parse(std::string_view(good).substr(0, good.size() - 48), "data.gguf"),
                "data.gguf", "tensor data missing");
  // Through the file API, on copies of the real file.
  SOUK_REQUIRE_MODEL(dir, "ggml-vocab-bert-bge/models");
  const std::string real = ReadAll(dir / "ggml-vocab-bert-bge.gguf");
  ASSERT_GT(real.size(), 1000u);
  for (size_t cut : {size_t{0}, size_t{3}, size_t{4}, size_t{10}, size_t{23}, size_t{24},
                     size_t{100}, size_t{1000}, real.size() / 2, real.size() - 1}) {
    const fs::path p = tmp / ("cut" + std::to_string(cut) + ".gguf");
    WriteAll(p, std::string_view(real).substr(0, cut));
    ExpectCorrupt(GgufFile::Open(p), p.string(), "real file cut at " + std::to_string(cut));
    auto tok = WordPieceTokenizer::FromGguf(p);
    EXPECT_FALSE(tok.ok());
    EXPECT_NE(tok.status().message().find(p.string()), std::string::npos);
  }
  {
    const size_t at = real.find("tokenizer.ggml.tokens");
    ASSERT_NE(at, std::string::npos);
    std::string b = real;
    const uint64_t huge = uint64_t{1} << 62;
    std::memcpy(&b[at + 21 + 8], &huge, 8);  // the array's element count
    const fs::path p = tmp / "huge-count.gguf";
    WriteAll(p, b);
    ExpectCorrupt(GgufFile::Open(p), p.string(), "huge token count");
    std::string c = real;
    const uint64_t long_string = uint64_t{1} << 40;
    std::memcpy(&c[at + 21 + 16], &long_string, 8);  // length of the first token
    WriteAll(p, c);
    ExpectCorrupt(GgufFile::Open(p), p.string(), "huge token length");
  }
  EXPECT_EQ(GgufFile::Open(tmp / "missing.gguf").status().code(), StatusCode::kNotFound);
  // A GGUF whose tokenizer is not BERT.
  GgufBuilder b;
  b.Counts(0, 2);
  b.Key("tokenizer.ggml.model", GgufType::kString);
  b.Str("gpt2");
  b.Key("tokenizer.ggml.tokens", GgufType::kArray);
  b.Pod(static_cast<uint32_t>(GgufType::kString));
  b.Pod(uint64_t{1});
  b.Str("[UNK]");
  WriteAll(tmp / "gpt2.gguf", b.bytes());
  auto gpt2 = WordPieceTokenizer::FromGguf(tmp / "gpt2.gguf");
  EXPECT_EQ(gpt2.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(gpt2.status().message().find("gpt2"), std::string::npos);
}

// ---------------------------------------------------------------------------
// Real tokenizer files.

TEST(RealTokenizers, EnglishModelsLoadAndAgreeWithVocabTxt) {
  for (const char* name : {"all-MiniLM-L6-v2", "gte-small"}) {
    SOUK_REQUIRE_MODEL(dir, name);
    SCOPED_TRACE(name);
    ASSERT_OK_AND_ASSIGN(WordPieceTokenizer from_json,
                         WordPieceTokenizer::FromTokenizerJson(dir / "tokenizer.json"));
    ASSERT_OK_AND_ASSIGN(WordPieceTokenizer from_dir, WordPieceTokenizer::FromDirectory(dir));
    ASSERT_OK_AND_ASSIGN(WordPieceTokenizer from_txt,
                         WordPieceTokenizer::FromVocabFile(dir / "vocab.txt", {}));
    EXPECT_EQ(from_json.vocab_size(), 30522);
    EXPECT_EQ(from_json.tokens(), from_txt.tokens());  // id for id
    EXPECT_EQ(from_dir.tokens(), from_txt.tokens());
    const auto vocab = ReadVocab(dir / "vocab.txt");
    for (const auto& [token, id] : vocab) ASSERT_EQ(from_json.TokenId(token), id) << token;
    const WordPieceOptions& o = from_json.options();
    EXPECT_TRUE(o.lowercase);
    EXPECT_FALSE(o.strip_accents.has_value());
    EXPECT_TRUE(o.StripAccents());
    EXPECT_TRUE(o.handle_chinese_chars);
    EXPECT_TRUE(o.clean_text);
    EXPECT_EQ(o.max_length, 128);  // truncation.max_length of tokenizer.json
    EXPECT_EQ(o.continuing_prefix, "##");
    EXPECT_EQ(o.max_input_chars_per_word, 100);
    EXPECT_EQ(from_json.cls_id(), 101);
    EXPECT_EQ(from_json.sep_id(), 102);
    EXPECT_EQ(from_json.pad_id(), 0);
    EXPECT_EQ(from_json.unk_id(), 100);
    EXPECT_EQ(from_json.mask_id(), 103);
    EXPECT_EQ(from_json.special_tokens().size(), 5u);
    EXPECT_EQ(from_txt.options().max_length, 512);  // FromVocabFile: the options given
  }
}

TEST(RealTokenizers, ChineseModelsLoad) {
  SOUK_REQUIRE_MODEL(m3e_dir, "m3e-small-zh");
  SOUK_REQUIRE_MODEL(bge_dir, "bge-zh-vocab");
  ASSERT_OK_AND_ASSIGN(WordPieceTokenizer m3e, WordPieceTokenizer::FromDirectory(m3e_dir));
  ASSERT_OK_AND_ASSIGN(WordPieceTokenizer bge, WordPieceTokenizer::FromDirectory(bge_dir));
  EXPECT_EQ(m3e.vocab_size(), 21128);
  EXPECT_EQ(bge.vocab_size(), 21128);
  // m3e: BertNormalizer with lowercase false and strip_accents null -> no
  // lower-casing and no accent stripping; no truncation section, so
  // tokenizer_config.json's model_max_length (512) applies.
  EXPECT_FALSE(m3e.options().lowercase);
  EXPECT_FALSE(m3e.options().StripAccents());
  EXPECT_TRUE(m3e.options().handle_chinese_chars);
  EXPECT_EQ(m3e.options().max_length, 512);
  // bge-zh: vocab.txt only -> BertTokenizer defaults (uncased).
  EXPECT_TRUE(bge.options().lowercase);
  EXPECT_EQ(bge.tokens(), m3e.tokens());  // same bert-base-chinese vocabulary

  const auto vocab = ReadVocab(bge_dir / "vocab.txt");
  // Mixed CJK + Latin: ideographs split apart, "iPhone13" lower-cased by bge
  // into iphone ##13, kept cased by m3e (no "##P..." token -> [UNK]).
  const std::string text = "苹果手机iPhone13，红色XL";
  EXPECT_EQ(bge.Encode(text), Ids(vocab, {"[CLS]", "苹", "果", "手", "机", "iphone", "##13", "，",
                                          "红", "色", "xl", "[SEP]"}));
  EXPECT_EQ(m3e.Encode(text), Ids(vocab, {"[CLS]", "苹", "果", "手", "机", "[UNK]", "，", "红",
                                          "色", "[UNK]", "[SEP]"}));
  EXPECT_EQ(bge.Tokenize("小米 洗衣机"), (std::vector<std::string>{"小", "米", "洗", "衣", "机"}));
}

class MiniLmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ModelDir("all-MiniLM-L6-v2");
    if (dir_.empty()) GTEST_SKIP() << "shared model files missing: all-MiniLM-L6-v2";
    auto t = WordPieceTokenizer::FromDirectory(dir_);
    ASSERT_OK(t);
    tok_ = std::make_unique<WordPieceTokenizer>(std::move(t).value());
    vocab_ = ReadVocab(dir_ / "vocab.txt");
  }
  std::vector<int32_t> Ids(const std::vector<std::string>& pieces) {
    return ::souk::lm::Ids(vocab_, pieces);
  }
  fs::path dir_;
  std::unique_ptr<WordPieceTokenizer> tok_;
  std::map<std::string, int32_t> vocab_;
};

TEST_F(MiniLmTest, HandCheckedEncodings) {
  // Lower-casing, punctuation split, sub-words (no "tokenization" in the vocab).
  ASSERT_EQ(vocab_.count("tokenization"), 0u);
  EXPECT_EQ(tok_->Encode("Hello, WORLD! Tokenization"),
            Ids({"[CLS]", "hello", ",", "world", "!", "token", "##ization", "[SEP]"}));
  // Accents stripped (NFD + drop Mn): crème -> creme, whose longest vocab
  // prefix is "cr" (creme/crem/cre absent), then "##eme"; brûlée -> brulee ->
  // "br" (bru... absent), "##ule" (##ulee absent), "##e"; café -> cafe.
  ASSERT_EQ(vocab_.count("creme"), 0u);
  ASSERT_EQ(vocab_.count("crem"), 0u);
  ASSERT_EQ(vocab_.count("cre"), 0u);
  ASSERT_EQ(vocab_.count("##eme"), 1u);
  ASSERT_EQ(vocab_.count("bru"), 0u);
  ASSERT_EQ(vocab_.count("##ulee"), 0u);
  ASSERT_EQ(vocab_.count("brul"), 0u);
  ASSERT_EQ(vocab_.count("brule"), 0u);
  ASSERT_EQ(vocab_.count("brulee"), 0u);
  EXPECT_EQ(tok_->Encode("Crème Brûlée, café naïve", false),
            Ids({"cr", "##eme", "br", "##ule", "##e", ",", "cafe", "naive"}));
  // Final sigma lower-cases to σ (per code point, no context), as in HF.
  EXPECT_EQ(tok_->Encode("ΣΣ", false), Ids({"σ", "##σ"}));
  // Quotes and CJK punctuation are punctuation; zero-width space (Cf) and
  // controls are dropped; NBSP is whitespace.
  EXPECT_EQ(tok_->Encode("‘cord\u200Bless’\x01\xC2\xA0"
                         "drill",
                         false),
            Ids({"‘", "cord", "##less", "’", "drill"}));
  // Special tokens written in the text are recognized verbatim.
  EXPECT_EQ(tok_->Encode("hello [MASK] world[SEP]", false),
            Ids({"hello", "[MASK]", "world", "[SEP]"}));
  // "[mask]" is not a special token: it is lower-case text.
  EXPECT_EQ(tok_->Encode("[mask]", false), Ids({"[", "mask", "]"}));
  // A word longer than 100 characters is [UNK]; 100 is still split.
  const std::string long_word(101, 'a');
  EXPECT_EQ(tok_->Encode("x " + long_word + " x", false), Ids({"x", "[UNK]", "x"}));
  std::vector<int32_t> hundred = tok_->Encode(std::string(100, 'a'), false);
  EXPECT_GT(hundred.size(), 1u);
  EXPECT_EQ(std::count(hundred.begin(), hundred.end(), 100), 0);
  // A word with an unmatchable piece is a single [UNK] (emoji).
  EXPECT_EQ(tok_->Encode("ab🦙cd", false), Ids({"[UNK]"}));
  // Empty and whitespace-only input.
  EXPECT_EQ(tok_->Encode(""), Ids({"[CLS]", "[SEP]"}));
  EXPECT_EQ(tok_->Encode(" \t\n "), Ids({"[CLS]", "[SEP]"}));
  EXPECT_TRUE(tok_->Encode("", false).empty());
  EXPECT_EQ(tok_->Tokenize("Hello, WORLD!"),
            (std::vector<std::string>{"hello", ",", "world", "!"}));
}

TEST_F(MiniLmTest, TruncationKeepsSep) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "hello world ";
  const auto full = tok_->Encode(text, true, 0);
  ASSERT_EQ(full.size(), 602u);
  const auto cut = tok_->Encode(text, true, 8);
  ASSERT_EQ(cut.size(), 8u);
  EXPECT_EQ(cut.front(), 101);
  EXPECT_EQ(cut.back(), 102);
  EXPECT_EQ(std::vector<int32_t>(cut.begin(), cut.end() - 1),
            std::vector<int32_t>(full.begin(), full.begin() + 7));
  // Default: options().max_length (128 from tokenizer.json).
  const auto dflt = tok_->Encode(text);
  ASSERT_EQ(dflt.size(), 128u);
  EXPECT_EQ(dflt.back(), 102);
  // Without specials the limit applies to the pieces themselves.
  EXPECT_EQ(tok_->Encode(text, false, 5).size(), 5u);
  // Tiny limits still give [CLS][SEP].
  EXPECT_EQ(tok_->Encode(text, true, 1), Ids({"[CLS]", "[SEP]"}));
  // A special token exactly at the cut.
  EXPECT_EQ(tok_->Encode("a b [MASK] c", true, 5), Ids({"[CLS]", "a", "b", "[MASK]", "[SEP]"}));
}

TEST_F(MiniLmTest, InvalidUtf8IsDroppedWithoutCrashing) {
  // Each invalid byte becomes U+FFFD, which clean_text drops.
  EXPECT_EQ(tok_->Encode("dr\xFFill", false), tok_->Encode("drill", false));
  EXPECT_EQ(tok_->Encode("drill\xE4\xB8", false), tok_->Encode("drill", false));
  EXPECT_EQ(tok_->Encode("\xC0\xAF\xED\xA0\x80 drill", false), tok_->Encode("drill", false));
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk.push_back(static_cast<char>((i * 7919) & 0xFF));
  const auto ids = tok_->Encode(junk, true, 0);
  for (int32_t id : ids) {
    EXPECT_GE(id, 0);
    EXPECT_LT(id, tok_->vocab_size());
  }
  // With clean_text off, the replacement character is an unknown word.
  WordPieceOptions o = tok_->options();
  o.clean_text = false;
  ASSERT_OK_AND_ASSIGN(auto raw, WordPieceTokenizer::FromTokens(tok_->tokens(), o));
  EXPECT_EQ(raw.Encode("a\xFF", false), Ids({"[UNK]"}));
}

TEST_F(MiniLmTest, SaveAndReloadGiveAnIdenticalTokenizer) {
  const fs::path tmp = testing::TempDir("wp-save");
  ASSERT_OK(tok_->Save(tmp));
  ASSERT_OK_AND_ASSIGN(WordPieceTokenizer back, WordPieceTokenizer::FromDirectory(tmp));
  EXPECT_EQ(back.tokens(), tok_->tokens());
  EXPECT_EQ(back.special_tokens(), tok_->special_tokens());
  const WordPieceOptions &a = back.options(), &b = tok_->options();
  EXPECT_EQ(a.lowercase, b.lowercase);
  EXPECT_EQ(a.strip_accents, b.strip_accents);
  EXPECT_EQ(a.handle_chinese_chars, b.handle_chinese_chars);
  EXPECT_EQ(a.clean_text, b.clean_text);
  EXPECT_EQ(a.max_length, b.max_length);
  EXPECT_EQ(a.max_input_chars_per_word, b.max_input_chars_per_word);
  EXPECT_EQ(a.continuing_prefix, b.continuing_prefix);
  EXPECT_EQ(a.unk_token, b.unk_token);
  EXPECT_EQ(a.cls_token, b.cls_token);
  EXPECT_EQ(a.mask_token, b.mask_token);
  for (const char* text : {"Crème Brûlée [MASK] 苹果", "Hello, WORLD!", ""}) {
    EXPECT_EQ(back.Encode(text), tok_->Encode(text)) << text;
  }
  // A cased, accent-keeping variant round-trips too (explicit strip_accents).
  WordPieceOptions o = tok_->options();
  o.lowercase = false;
  o.strip_accents = false;
  o.max_length = 64;
  ASSERT_OK_AND_ASSIGN(auto cased, WordPieceTokenizer::FromTokens(tok_->tokens(), o));
  const fs::path tmp2 = testing::TempDir("wp-save2");
  ASSERT_OK(cased.Save(tmp2));
  ASSERT_OK_AND_ASSIGN(WordPieceTokenizer cased_back, WordPieceTokenizer::FromDirectory(tmp2));
  EXPECT_FALSE(cased_back.options().lowercase);
  EXPECT_EQ(cased_back.options().strip_accents, std::optional<bool>(false));
  EXPECT_EQ(cased_back.options().max_length, 64);
  EXPECT_EQ(cased_back.Encode("Hello Café"), cased.Encode("Hello Café"));
  // The saved tokenizer.json alone gives the same tokenizer; vocab.txt alone
  // (with tokenizer_config.json) too.
  ASSERT_OK_AND_ASSIGN(auto json_only,
                       WordPieceTokenizer::FromTokenizerJson(tmp / "tokenizer.json"));
  EXPECT_EQ(json_only.tokens(), tok_->tokens());
  EXPECT_EQ(json_only.options().max_length, tok_->options().max_length);
  EXPECT_EQ(json_only.Encode("Crème Brûlée [MASK]"), tok_->Encode("Crème Brûlée [MASK]"));
  fs::remove(tmp / "tokenizer.json");
  ASSERT_OK_AND_ASSIGN(auto txt_only, WordPieceTokenizer::FromDirectory(tmp));
  EXPECT_EQ(txt_only.tokens(), tok_->tokens());
  EXPECT_EQ(txt_only.special_tokens(), tok_->special_tokens());
  EXPECT_EQ(txt_only.options().StripAccents(), tok_->options().StripAccents());
  EXPECT_EQ(txt_only.Encode("Crème Brûlée [MASK]"), tok_->Encode("Crème Brûlée [MASK]"));
  // Saving over an existing folder replaces the files.
  ASSERT_OK(cased.Save(tmp));
  ASSERT_OK_AND_ASSIGN(auto replaced, WordPieceTokenizer::FromDirectory(tmp));
  EXPECT_FALSE(replaced.options().lowercase);
  // Clone and move keep behaviour.
  WordPieceTokenizer clone = tok_->Clone();
  WordPieceTokenizer moved = std::move(clone);
  EXPECT_EQ(moved.Encode("Hello, WORLD!"), tok_->Encode("Hello, WORLD!"));
}

TEST_F(MiniLmTest, EncodesTitlesFast) {
  SOUK_REQUIRE_DATA(products, "homedepot/products.csv");
  std::vector<std::string> titles;
  std::ifstream in(products);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line) && titles.size() < 50000) {
    const size_t comma = line.find(',');
    if (comma != std::string::npos) titles.push_back(line.substr(comma + 1));
  }
  ASSERT_GT(titles.size(), 10000u);
  size_t ids = 0, unk = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& t : titles) {
    const auto e = tok_->Encode(t);
    ids += e.size();
    unk += static_cast<size_t>(std::count(e.begin(), e.end(), tok_->unk_id()));
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ info ] %zu titles in %.3f s = %.0f titles/s, %.1f ids/title, %zu unk\n",
              titles.size(), s, titles.size() / s, double(ids) / titles.size(), unk);
  EXPECT_LT(unk * 100, ids);  // English catalog text: well under 1% unknown
}

// ---------------------------------------------------------------------------
// Bad input.

TEST(TokenizerErrors, MissingAndCorruptFiles) {
  const fs::path tmp = testing::TempDir("wp-errors");
  auto missing = WordPieceTokenizer::FromDirectory(tmp / "nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope"), std::string::npos);
  EXPECT_EQ(WordPieceTokenizer::FromTokenizerJson(tmp / "none.json").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(WordPieceTokenizer::FromVocabFile(tmp / "none.txt", {}).status().code(),
            StatusCode::kNotFound);

  auto expect_invalid = [](const StatusOr<WordPieceTokenizer>& r, const fs::path& file,
                           const std::string& needle) {
    ASSERT_FALSE(r.ok()) << needle;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find(file.string()), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
  };
  const fs::path tj = tmp / "tokenizer.json";
  WriteAll(tj, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0,");
  expect_invalid(WordPieceTokenizer::FromTokenizerJson(tj), tj, "invalid JSON");
  expect_invalid(WordPieceTokenizer::FromDirectory(tmp), tj, "invalid JSON");
  WriteAll(tj, R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})");
  expect_invalid(WordPieceTokenizer::FromTokenizerJson(tj), tj, "BPE");
  WriteAll(tj, R"({"model": {"type": "Unigram", "vocab": [["a", 0.0]]}})");
  expect_invalid(WordPieceTokenizer::FromTokenizerJson(tj), tj, "Unigram");
  WriteAll(
      tj,
      R"({"normalizer": {"type": "BertNormalizer"}, "pre_tokenizer": {"type": "BertPreTokenizer"},
                  "model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 2}}})");
  expect_invalid(WordPieceTokenizer::FromTokenizerJson(tj), tj, "gaps");
  WriteAll(
      tj,
      R"({"normalizer": {"type": "BertNormalizer"}, "pre_tokenizer": {"type": "BertPreTokenizer"},
                  "model": {"type": "WordPiece", "vocab": {"a": 0}}})");
  expect_invalid(WordPieceTokenizer::FromTokenizerJson(tj), tj, "[UNK]");
  WriteAll(tj, R"({"normalizer": {"type": "NFKC"}, "pre_tokenizer": {"type": "BertPreTokenizer"},
                  "model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}})");
  expect_invalid(WordPieceTokenizer::FromTokenizerJson(tj), tj, "NFKC");
  WriteAll(tj, R"({"normalizer": {"type": "BertNormalizer", "lowercase": "yes"},
                  "pre_tokenizer": {"type": "BertPreTokenizer"},
                  "model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}})");
  expect_invalid(WordPieceTokenizer::FromTokenizerJson(tj), tj, "normalizer.lowercase");
  WriteAll(tj, R"({"normalizer": null, "pre_tokenizer": {"type": "Whitespace"},
                  "model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}})");
  expect_invalid(WordPieceTokenizer::FromTokenizerJson(tj), tj, "Whitespace");
  WriteAll(
      tj,
      R"({"pre_tokenizer": {"type": 5}, "model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}})");
  expect_invalid(WordPieceTokenizer::FromTokenizerJson(tj), tj, "pre_tokenizer");
  WriteAll(tj, "[1, 2]");
  expect_invalid(WordPieceTokenizer::FromTokenizerJson(tj), tj, "object");

  // A Sequence normalizer that maps onto the BERT normalizer.
  WriteAll(tj, R"({"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFD"},
                  {"type": "Lowercase"}, {"type": "StripAccents"}]},
                  "pre_tokenizer": {"type": "BertPreTokenizer"},
                  "model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "cafe": 1}}})");
  ASSERT_OK_AND_ASSIGN(auto seq, WordPieceTokenizer::FromTokenizerJson(tj));
  EXPECT_TRUE(seq.options().lowercase);
  EXPECT_TRUE(seq.options().StripAccents());
  EXPECT_FALSE(seq.options().clean_text);
  EXPECT_EQ(seq.Encode("CAFÉ", false), (std::vector<int32_t>{1}));
  WriteAll(tj, R"({"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFD"}]},
                  "pre_tokenizer": {"type": "BertPreTokenizer"},
                  "model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}})");
  expect_invalid(WordPieceTokenizer::FromTokenizerJson(tj), tj, "NFD");

  // vocab.txt without the unknown token; corrupt tokenizer_config.json.
  const fs::path vdir = testing::TempDir("wp-vocab");
  WriteAll(vdir / "vocab.txt", "a\nb\n");
  expect_invalid(WordPieceTokenizer::FromDirectory(vdir), vdir / "vocab.txt", "[UNK]");
  WriteAll(vdir / "vocab.txt", "[UNK]\na\n");
  WriteAll(vdir / "tokenizer_config.json", "{\"do_lower_case\": ");
  expect_invalid(WordPieceTokenizer::FromDirectory(vdir), vdir / "tokenizer_config.json",
                 "invalid JSON");
  WriteAll(vdir / "tokenizer_config.json", R"({"do_lower_case": 1})");
  expect_invalid(WordPieceTokenizer::FromDirectory(vdir), vdir / "tokenizer_config.json",
                 "do_lower_case");
  // Absurd model_max_length (1e30) means unset -> 512; cased from config.
  WriteAll(vdir / "tokenizer_config.json",
           R"({"do_lower_case": false, "model_max_length": 1000000000000000019884624838656})");
  ASSERT_OK_AND_ASSIGN(auto cfg, WordPieceTokenizer::FromDirectory(vdir));
  EXPECT_EQ(cfg.options().max_length, 512);
  EXPECT_FALSE(cfg.options().lowercase);
  EXPECT_EQ(cfg.vocab_size(), 2);
  EXPECT_EQ(cfg.cls_id(), -1);  // absent specials are -1 and left out of Encode
  EXPECT_EQ(cfg.Encode("a"), (std::vector<int32_t>{1}));
  // Empty vocabulary.
  EXPECT_EQ(WordPieceTokenizer::FromTokens({}, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(TokenizerBasics, GreedyLongestMatchOnATinyVocab) {
  WordPieceOptions o;
  ASSERT_OK_AND_ASSIGN(auto t, WordPieceTokenizer::FromTokens(
                                   {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "una",
                                    "##ff", "##ffa", "##able", "##ble", "a", "##a"},
                                   o));
  // "unaffable": una + ##ffa + ##ble (longest first at each step).
  EXPECT_EQ(t.Tokenize("unaffable"), (std::vector<std::string>{"una", "##ffa", "##ble"}));
  EXPECT_EQ(t.Encode("unaffable aa"), (std::vector<int32_t>{2, 6, 8, 10, 11, 12, 3}));
  // "unx": no piece for "x" -> the whole word is [UNK].
  EXPECT_EQ(t.Encode("a unx a", false), (std::vector<int32_t>{11, 1, 11}));
  EXPECT_EQ(t.TokenId("##ffa"), 8);
  EXPECT_EQ(t.TokenId("zzz"), -1);
  EXPECT_EQ(t.Token(8), "##ffa");
  EXPECT_EQ(t.Token(99), "");
  // max_input_chars_per_word counts code points, not bytes.
  o.max_input_chars_per_word = 3;
  ASSERT_OK_AND_ASSIGN(auto s, WordPieceTokenizer::FromTokens({"[UNK]", "é", "##é"}, o));
  EXPECT_EQ(s.Encode("ééé ééééé", false), (std::vector<int32_t>{0, 0}));  // strip: e != é
  o.strip_accents = false;
  ASSERT_OK_AND_ASSIGN(auto k, WordPieceTokenizer::FromTokens({"[UNK]", "é", "##é"}, o));
  EXPECT_EQ(k.Encode("ééé éééé", false), (std::vector<int32_t>{1, 2, 2, 0}));
}

TEST(TokenizerBasics, PreTokenizerFollowsBert) {
  std::vector<std::string> words;
  auto split = [&](std::string_view text, const WordPieceOptions& o) {
    words.clear();
    BertPreTokenize(text, o, [&](std::string_view w) { words.emplace_back(w); });
    return words;
  };
  WordPieceOptions o;
  using V = std::vector<std::string>;
  EXPECT_EQ(split("Don't stop-me now!", o), (V{"don", "'", "t", "stop", "-", "me", "now", "!"}));
  EXPECT_EQ(split("价格¥99元", o), (V{"价", "格", "¥99", "元"}));  // ¥ is Sc, not punctuation
  EXPECT_EQ(split("a\u3000b\u2028c", o), (V{"a", "b", "c"}));      // Unicode whitespace
  EXPECT_EQ(split("x\u00ADy", o), (V{"xy"}));                      // soft hyphen (Cf) dropped
  EXPECT_EQ(split("Ａ", o), (V{"ａ"}));                            // no NFKC in BERT
  EXPECT_EQ(split("\uF900", o), (V{"\u8C48"}));                    // CJK compat: NFD
  o.handle_chinese_chars = false;
  EXPECT_EQ(split("价格", o), (V{"价格"}));
  o.lowercase = false;
  EXPECT_EQ(split("Café", o), (V{"Café"}));  // strip_accents follows lowercase
  o.strip_accents = true;
  EXPECT_EQ(split("Café", o), (V{"Cafe"}));
}

// ---------------------------------------------------------------------------
// Trainer.

TEST(WordPieceTrainer, MergesByLikelihoodNotFrequency) {
  // a ##b occurs 3 times (score 3/(3*3)), c ##d twice (score 2/(2*2)): the
  // likelihood criterion merges "cd" first, frequency would merge "ab" first.
  WordPieceTrainOptions o;
  o.score = WordPieceScore::kLikelihoodRatio;
  o.vocab_size = 10;
  const std::vector<std::string> texts = {"ab ab ab", "cd cd", "e"};
  const auto vocab = TrainWordPieceVocab(texts, o);
  EXPECT_EQ(vocab, (std::vector<std::string>{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "c",
                                             "##b", "##d", "cd"}));
  o.vocab_size = 100;  // runs out of pairs: stops at 11 tokens; "e" is below min_frequency
  EXPECT_EQ(TrainWordPieceVocab(texts, o).size(), 11u);
  EXPECT_EQ(TrainWordPieceVocab({}, o).size(), 5u);
}

TEST(WordPieceTrainer, LikelihoodGainPrefersFrequentAssociatedPairs) {
  // Words: cd x2, ce x6, ge x6. Symbols: c 8, g 6, ##d 2, ##e 12; N = 28.
  //   ratio: c ##d 2/16 = 0.125 > g ##e 6/72 = 0.083 > c ##e 6/96 = 0.0625
  //   gain:  g ##e 6 log(6*28/72) = 5.08 > c ##e 6 log(6*28/96) = 3.36
  //          > c ##d 2 log(2*28/16) = 2.51
  // After "ge" (##e 6, N 22): c ##e 6 log(6*22/48) = 6.07 > c ##d 2 log(2*22/16).
  const double n = 28;
  ASSERT_GT(6 * std::log(6 * n / 72), 6 * std::log(6 * n / 96));
  ASSERT_GT(6 * std::log(6 * n / 96), 2 * std::log(2 * n / 16));
  const std::vector<std::string> texts = {"cd cd", "ce ce ce ce ce ce", "ge ge ge ge ge ge"};
  WordPieceTrainOptions o;
  o.vocab_size = 5 + 4 + 1;  // specials + c g ##d ##e + one merge
  auto vocab = TrainWordPieceVocab(texts, o);
  ASSERT_EQ(vocab.size(), 10u);
  EXPECT_EQ(std::vector<std::string>(vocab.begin() + 5, vocab.end()),
            (std::vector<std::string>{"c", "g", "##e", "##d", "ge"}));
  o.vocab_size = 12;
  vocab = TrainWordPieceVocab(texts, o);
  EXPECT_EQ(std::vector<std::string>(vocab.begin() + 9, vocab.end()),
            (std::vector<std::string>{"ge", "ce", "cd"}));
  // The ratio criterion picks "cd" first on the same corpus.
  o.score = WordPieceScore::kLikelihoodRatio;
  o.vocab_size = 10;
  EXPECT_EQ(TrainWordPieceVocab(texts, o).back(), "cd");
}

std::vector<std::string> ReadColumn(const fs::path& p, char sep, size_t max_rows) {
  std::vector<std::string> out;
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line) && out.size() < max_rows) {
    const size_t at = line.find(sep);
    if (at != std::string::npos) out.push_back(line.substr(at + 1));
  }
  return out;
}

TEST(WordPieceTrainer, CatalogVocabularyEncodesHeldOutTitles) {
  SOUK_REQUIRE_DATA(products, "homedepot/products.csv");
  const auto titles = ReadColumn(products, ',', 60000);
  ASSERT_GT(titles.size(), 50000u);
  const std::vector<std::string> train(titles.begin(), titles.begin() + 50000);
  const std::vector<std::string> held(titles.begin() + 50000, titles.end());
  WordPieceTrainOptions o;
  const auto start = std::chrono::steady_clock::now();
  const auto vocab = TrainWordPieceVocab(train, o);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ info ] trained %zu tokens from %zu titles in %.1f s\n", vocab.size(), train.size(),
              s);
  ASSERT_EQ(vocab.size(), 8000u);
  EXPECT_EQ(std::vector<std::string>(vocab.begin(), vocab.begin() + 5),
            (std::vector<std::string>{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}));
  EXPECT_EQ(std::set<std::string>(vocab.begin(), vocab.end()).size(), vocab.size());
  ASSERT_OK_AND_ASSIGN(auto tok, WordPieceTokenizer::FromTokens(vocab, o.tokenizer));
  size_t ids = 0, unk = 0;
  for (const auto& t : held) {
    const auto e = tok.Encode(t, false, 0);
    ids += e.size();
    unk += static_cast<size_t>(std::count(e.begin(), e.end(), tok.unk_id()));
  }
  std::printf("[ info ] held-out: %zu ids, %zu unk (%.3f%%), %.2f ids/title\n", ids, unk,
              100.0 * unk / ids, double(ids) / held.size());
  EXPECT_LT(unk * 200, ids);  // < 0.5% unknown
  // Frequent catalog words are single tokens.
  for (const char* w : {"white", "steel", "with", "in", "door", "light", "black"}) {
    EXPECT_EQ(tok.Tokenize(w), std::vector<std::string>{w}) << w;
  }
}

TEST(WordPieceTrainer, ChineseQueriesVocabulary) {
  SOUK_REQUIRE_DATA(queries, "multi-cpr-queries/train.query.txt");
  const auto all = ReadColumn(queries, '\t', 100000);
  ASSERT_GT(all.size(), 20000u);
  const std::vector<std::string> train(all.begin(), all.end() - 2000);
  const std::vector<std::string> held(all.end() - 2000, all.end());
  WordPieceTrainOptions o;
  o.vocab_size = 6000;
  const auto vocab = TrainWordPieceVocab(train, o);
  ASSERT_OK_AND_ASSIGN(auto tok, WordPieceTokenizer::FromTokens(vocab, o.tokenizer));
  size_t ids = 0, unk = 0;
  for (const auto& t : held) {
    const auto e = tok.Encode(t, false, 0);
    ids += e.size();
    unk += static_cast<size_t>(std::count(e.begin(), e.end(), tok.unk_id()));
  }
  std::printf("[ info ] chinese held-out: %zu ids, %zu unk (%.3f%%), vocab %zu\n", ids, unk,
              100.0 * unk / ids, vocab.size());
  EXPECT_LT(unk * 50, ids);  // < 2% unknown (rare ideographs)
  // Frequent ideographs are tokens of their own.
  for (const char* w : {"的", "机", "女"}) EXPECT_EQ(tok.Tokenize(w), std::vector<std::string>{w});
}

}  // namespace
}  // namespace souk::lm
