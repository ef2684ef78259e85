#include "search/entity_tagger.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>

#include "common/testing.h"
#include "text/utf8.h"

namespace souk::search {
namespace {

std::vector<std::string> Chars(std::string_view s) {
  std::vector<std::string> out;
  for (const text::CodePoint& c : text::DecodeUtf8(s)) {
    out.emplace_back(s.substr(c.begin, c.end - c.begin));
  }
  return out;
}

// Appends `word` to `s` with tags of `type` ("" = O).
void Append(TaggedSentence* s, std::string_view word, const std::string& type) {
  const std::vector<std::string> chars = Chars(word);
  for (size_t i = 0; i < chars.size(); ++i) {
    s->chars.push_back(chars[i]);
    if (type.empty()) {
      s->tags.push_back("O");
    } else if (chars.size() == 1) {
      s->tags.push_back("S-" + type);
    } else {
      s->tags.push_back((i == 0 ? "B-" : i + 1 == chars.size() ? "E-" : "I-") + type);
    }
  }
}

// ---------------------------------------------------------------------------
// BIEOS reading.

TEST(ReadBieosTest, ParsesSentencesCharsTagsAndLines) {
  const std::string text =
      "耐\tB-HP\n克\tE-HP\n \tO\n鞋\tS-HC\n\n\n"
      "a\tO\r\n"
      "\t\tO\n"  // a tab character is a valid char (everything before the last tab)
      "b\tB-HC\nc\tE-HC";
  BieosReadStats stats;
  auto s = ParseBieos(text, "mem", {}, &stats);
  ASSERT_OK(s);
  ASSERT_EQ(s->size(), 2u);
  EXPECT_EQ((*s)[0].chars, (std::vector<std::string>{"耐", "克", " ", "鞋"}));
  EXPECT_EQ((*s)[0].tags, (std::vector<std::string>{"B-HP", "E-HP", "O", "S-HC"}));
  EXPECT_EQ((*s)[0].first_line, 1u);
  EXPECT_EQ((*s)[0].Text(), "耐克 鞋");
  EXPECT_EQ((*s)[1].chars, (std::vector<std::string>{"a", "\t", "b", "c"}));
  EXPECT_EQ((*s)[1].first_line, 7u);
  EXPECT_EQ(stats.sentences, 2u);
  EXPECT_EQ(stats.chars, 8u);
  EXPECT_EQ(stats.repaired_sentences, 0u);
}

TEST(ReadBieosTest, BadLinesAreDataLossNamingTheLine) {
  struct Case {
    std::string text;
    std::string expect;  // substring of the message
  };
  const std::vector<Case> cases = {
      {"a\tO\nno tab here\n", "f.bieos:2: expected"},
      {"a\tO\nb\tX-HP\n", "f.bieos:2: invalid tag \"X-HP\""},
      {"a\tO\nb\tB-\n", "f.bieos:2: invalid tag"},
      {"a\tO\n\tO\n", "f.bieos:2: empty character"},
      {"a\tO\nb\t\xff\n", "f.bieos:2: invalid UTF-8"},
      {"a\tB-HP\nb\tO\n", "f.bieos:2: invalid BIEOS tag sequence: tag O cannot follow B-HP"},
      {"a\tO\nb\tI-HC\n", "f.bieos:2: invalid BIEOS tag sequence"},
      {"a\tB-HP\nb\tE-HC\n", "f.bieos:2: invalid BIEOS"},
      {"x\tO\n\na\tO\nb\tB-HP\n",
       "f.bieos:4: invalid BIEOS tag sequence: entity B-HP is not closed"},
  };
  for (const Case& c : cases) {
    auto s = ParseBieos(c.text, "f.bieos");
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_EQ(s.status().code(), StatusCode::kDataLoss) << c.text;
    EXPECT_NE(s.status().message().find(c.expect), std::string::npos)
        << "want '" << c.expect << "' in: " << s.status().message();
  }
}

TEST(ReadBieosTest, RepairModeFixesAndCountsInvalidSequences) {
  // The published train file has "B-HC B-HC E-HC": the first B is closed as S.
  BieosReadOptions options;
  options.repair_invalid = true;
  BieosReadStats stats;
  auto s = ParseBieos("x\tO\n\na\tB-HC\nb\tB-HC\nc\tE-HC\n", "f", options, &stats);
  ASSERT_OK(s);
  ASSERT_EQ(s->size(), 2u);
  EXPECT_EQ((*s)[1].tags, (std::vector<std::string>{"S-HC", "B-HC", "E-HC"}));
  EXPECT_EQ(stats.repaired_sentences, 1u);
  EXPECT_EQ(stats.repaired_lines, (std::vector<uint32_t>{3}));
}

TEST(ReadBieosTest, MissingFileIsNotFoundNamingPath) {
  auto s = ReadBieos("/nonexistent/dir/train.bieos");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("/nonexistent/dir/train.bieos"), std::string::npos);
}

TEST(TagSequenceTest, FirstInvalidAndRepair) {
  using V = std::vector<std::string>;
  EXPECT_EQ(FirstInvalidTag(V{}), -1);
  EXPECT_EQ(FirstInvalidTag(V{"O", "B-HP", "I-HP", "E-HP", "S-HC", "O"}), -1);
  EXPECT_EQ(FirstInvalidTag(V{"O", "E-HP"}), 1);
  EXPECT_EQ(FirstInvalidTag(V{"B-HP", "I-HC"}), 1);
  EXPECT_EQ(FirstInvalidTag(V{"B-HP", "I-HP"}), 2);  // open at the end
  EXPECT_EQ(FirstInvalidTag(V{"O", "bogus"}), 1);
  EXPECT_EQ(RepairTags(V{"I-HP", "E-HP", "O", "E-HC", "B-HP", "O", "B-HC", "I-HC"}),
            (V{"B-HP", "E-HP", "O", "S-HC", "S-HP", "O", "B-HC", "E-HC"}));
  for (const V& v : {V{"I-HP"}, V{"B-HP", "B-HC", "I-HP", "E-HC", "S-HP"}, V{"E-HC", "I-HC"}}) {
    EXPECT_EQ(FirstInvalidTag(RepairTags(v)), -1);
  }
}

TEST(EntitiesFromTagsTest, ByteOffsetsIntoTheConcatenation) {
  const std::vector<std::string> chars = {"a", "耐", "克", "x", "鞋"};
  const auto e = EntitiesFromTags(chars, {"O", "B-HP", "E-HP", "O", "S-HC"});
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0], (TaggedEntity{"HP", "耐克", 1, 7}));
  EXPECT_EQ(e[1], (TaggedEntity{"HC", "鞋", 8, 11}));
}

TEST(EntityMatchStatsTest, ExactMatchPerTypeAndMicro) {
  EntityMatchStats stats;
  stats.Add({{"HP", "ab", 0, 2}, {"HC", "cd", 2, 4}},
            {{"HP", "ab", 0, 2}, {"HC", "c", 2, 3}, {"HC", "x", 5, 6}});
  stats.Add({{"HC", "q", 0, 1}}, {});
  EXPECT_EQ(stats.micro().gold, 3u);
  EXPECT_EQ(stats.micro().predicted, 3u);
  EXPECT_EQ(stats.micro().correct, 1u);
  EXPECT_DOUBLE_EQ(stats.ForType("HP").f1(), 1.0);
  EXPECT_DOUBLE_EQ(stats.ForType("HC").precision(), 0.0);
  EXPECT_DOUBLE_EQ(stats.micro().precision(), 1.0 / 3);
  EXPECT_DOUBLE_EQ(stats.micro().recall(), 1.0 / 3);
  EXPECT_DOUBLE_EQ(stats.ForType("nothing").f1(), 0.0);
}

// ---------------------------------------------------------------------------
// Gazetteer.

TEST(GazetteerTest, FoldsCountsAndLongestMatch) {
  Gazetteer g;
  g.Add("HP", "Nike");
  g.Add("HP", "ｎｉｋｅ");  // full width folds to the same entry
  g.Add("HC", "运动鞋");
  g.Add("HC", "鞋");
  g.Add("HP", "  ");  // ignored
  EXPECT_EQ(g.size(), 3u);
  EXPECT_EQ(g.Count("HP", "NIKE"), 2u);
  EXPECT_TRUE(g.Contains("HC", "鞋"));
  EXPECT_FALSE(g.Contains("HP", "鞋"));
  EXPECT_EQ(g.max_length(), 4);

  const std::u32string text = FoldText("NIKE运动鞋和鞋");
  const auto longest = g.LongestMatches(text, 8);
  ASSERT_EQ(longest.size(), 3u);
  EXPECT_EQ(g.types()[longest[0].type], "HP");
  EXPECT_EQ(longest[0].begin, 0u);
  EXPECT_EQ(longest[0].end, 4u);
  EXPECT_EQ(longest[1].begin, 4u);
  EXPECT_EQ(longest[1].end, 7u);  // 运动鞋, not 鞋
  EXPECT_EQ(longest[2].begin, 8u);
  // FindAll also sees the inner 鞋; a length cap of 3 hides nike.
  EXPECT_EQ(g.FindAll(text, 8).size(), 4u);
  EXPECT_EQ(g.FindAll(text, 3).size(), 3u);
}

TEST(GazetteerTest, AmbiguousEntryTakesItsMostFrequentType) {
  Gazetteer g;
  g.Add("HP", "小米");
  g.Add("HC", "小米");
  g.Add("HC", "小米");
  const auto m = g.LongestMatches(FoldText("小米"), 8);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(g.types()[m[0].type], "HC");
}

TEST(GazetteerTest, LoadFileAndSerializeRoundTrip) {
  const auto dir = testing::TempDir("gazetteer");
  const std::string path = (dir / "brands.dic").string();
  {
    std::ofstream out(path);
    out << "华为\r\n\nApple\n华为\n";
  }
  Gazetteer g;
  ASSERT_OK(g.LoadFile("HP", path));
  EXPECT_EQ(g.size(), 2u);
  EXPECT_EQ(g.Count("HP", "华为"), 2u);
  EXPECT_TRUE(g.Contains("HP", "apple"));

  auto back = Gazetteer::Deserialize(g.Serialize());
  ASSERT_OK(back);
  EXPECT_EQ(back->size(), 2u);
  EXPECT_EQ(back->Count("HP", "华为"), 2u);
  EXPECT_EQ(back->Serialize(), g.Serialize());
  EXPECT_EQ(Gazetteer::Deserialize("junk").status().code(), StatusCode::kDataLoss);
  std::string cut = g.Serialize();
  cut.resize(cut.size() - 3);
  EXPECT_EQ(Gazetteer::Deserialize(cut).status().code(), StatusCode::kDataLoss);

  const Status missing = g.LoadFile("HP", (dir / "nope.dic").string());
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("nope.dic"), std::string::npos);
}

// ---------------------------------------------------------------------------
// Training and tagging.

const std::vector<std::string> kBrands = {"耐克",   "阿迪达斯", "华为",     "小米",
                                          "欧莱雅", "nike",     "三只松鼠", "美的"};
const std::vector<std::string> kProducts = {"运动鞋", "手机", "耳机",   "洗面奶",
                                            "背包",   "坚果", "电饭煲", "t恤"};
const std::vector<std::string> kFillers = {"正品", "新款", "2019", "男女",
                                           "包邮", "特价", " ",    "官方"};

// "[filler] brand [filler] product [filler]" with brands and products drawn so
// that (brand, product) pairs with (b + p) % 4 == 0 never occur in training.
std::vector<TaggedSentence> Synthetic(size_t n, uint64_t seed, bool held_out_pairs) {
  std::mt19937_64 rng(seed);
  std::vector<TaggedSentence> out;
  while (out.size() < n) {
    const size_t b = rng() % kBrands.size(), p = rng() % kProducts.size();
    if (((b + p) % 4 == 0) != held_out_pairs) continue;
    TaggedSentence s;
    if (rng() % 2) Append(&s, kFillers[rng() % kFillers.size()], "");
    Append(&s, kBrands[b], "HP");
    if (rng() % 2) Append(&s, kFillers[rng() % kFillers.size()], "");
    Append(&s, kProducts[p], "HC");
    if (rng() % 2) Append(&s, kFillers[rng() % kFillers.size()], "");
    out.push_back(std::move(s));
  }
  return out;
}

double F1(const EntityTagger& tagger, const std::vector<TaggedSentence>& gold) {
  EntityMatchStats stats;
  for (const TaggedSentence& s : gold) {
    stats.Add(EntitiesFromTags(s.chars, s.tags),
              EntitiesFromTags(s.chars, tagger.PredictTags(s.chars)));
  }
  return stats.micro().f1();
}

TEST(EntityTaggerTest, LearnsBrandThenProductOnUnseenCombinations) {
  const auto train = Synthetic(300, 1, false);
  const auto test = Synthetic(100, 2, true);
  for (bool use_gazetteer : {true, false}) {
    TaggerOptions options;
    options.epochs = 5;
    options.use_gazetteer = use_gazetteer;
    auto tagger = EntityTagger::Train(train, nullptr, Gazetteer(), options);
    ASSERT_OK(tagger);
    EXPECT_EQ((*tagger)->types(), (std::vector<std::string>{"HC", "HP"}));
    EXPECT_GE(F1(**tagger, test), 0.98) << "use_gazetteer=" << use_gazetteer;
    const auto e = (*tagger)->Tag("新款华为 耳机包邮");
    ASSERT_EQ(e.size(), 2u);
    EXPECT_EQ(e[0], (TaggedEntity{"HP", "华为", 6, 12}));
    EXPECT_EQ(e[1], (TaggedEntity{"HC", "耳机", 13, 19}));
  }
}

TEST(EntityTaggerTest, TagFoldsCaseButReturnsTheInputBytes) {
  auto tagger = EntityTagger::Train(Synthetic(300, 3, false), nullptr, Gazetteer(), {});
  ASSERT_OK(tagger);
  const auto e = (*tagger)->Tag("NIKE运动鞋");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0], (TaggedEntity{"HP", "NIKE", 0, 4}));
  EXPECT_EQ(e[1].text, "运动鞋");
}

TEST(EntityTaggerTest, DevSelectsAnEpochAndRecordsTheCurve) {
  const auto train = Synthetic(200, 4, false);
  const auto dev = Synthetic(50, 5, true);
  TaggerOptions options;
  options.epochs = 4;
  auto tagger = EntityTagger::Train(train, &dev, Gazetteer(), options);
  ASSERT_OK(tagger);
  const TrainingSummary& sum = (*tagger)->training_summary();
  EXPECT_EQ(sum.epochs_run, 4);
  ASSERT_EQ(sum.dev_f1.size(), 4u);
  ASSERT_GE(sum.best_epoch, 1);
  const double best = *std::max_element(sum.dev_f1.begin(), sum.dev_f1.end());
  EXPECT_DOUBLE_EQ(sum.dev_f1[sum.best_epoch - 1], best);
  EXPECT_NEAR(F1(**tagger, dev), best, 1e-9);  // the kept weights are the best epoch's
  EXPECT_GT(sum.num_features, 100u);
}

TEST(EntityTaggerTest, ServingTimeGazetteerEntriesAreRecognized) {
  // Many brands seen once, each also in the dictionary: the model learns to
  // trust dictionary matches, so a brand added at serving time is found.
  std::mt19937_64 rng(7);
  auto random_name = [&] {
    static const std::u32string kPool = U"甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥金木水火土";
    std::string s;
    const int len = 2 + static_cast<int>(rng() % 2);
    for (int i = 0; i < len; ++i) text::AppendUtf8(kPool[rng() % kPool.size()], s);
    return s;
  };
  Gazetteer dict;
  std::vector<TaggedSentence> train;
  for (int i = 0; i < 400; ++i) {
    const std::string brand = random_name();
    dict.Add("HP", brand);
    TaggedSentence s;
    Append(&s, kFillers[rng() % kFillers.size()], "");
    Append(&s, brand, "HP");
    Append(&s, kProducts[rng() % kProducts.size()], "HC");
    train.push_back(std::move(s));
  }
  TaggerOptions options;
  options.epochs = 5;
  auto tagger = EntityTagger::Train(train, nullptr, dict, options);
  ASSERT_OK(tagger);
  const std::string query = "正品星月坚果";
  (*tagger)->gazetteer().Add("HP", "星月");
  const auto e = (*tagger)->Tag(query);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0], (TaggedEntity{"HP", "星月", 6, 12}));
  EXPECT_EQ(e[1].type, "HC");
}

TEST(EntityTaggerTest, ViterbiOutputIsAlwaysAValidSequence) {
  auto tagger = EntityTagger::Train(Synthetic(200, 8, false), nullptr, Gazetteer(), {});
  ASSERT_OK(tagger);
  std::mt19937_64 rng(9);
  const std::u32string pool = U"耐克阿迪达斯华为小米运动鞋手机 abcXYZ019-，。!鞋机";
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<std::string> chars;
    const int n = static_cast<int>(rng() % 25);
    for (int i = 0; i < n; ++i) {
      std::string c;
      text::AppendUtf8(pool[rng() % pool.size()], c);
      chars.push_back(c);
    }
    const auto tags = (*tagger)->PredictTags(chars);
    ASSERT_EQ(tags.size(), chars.size());
    ASSERT_EQ(FirstInvalidTag(tags), -1) << ::testing::PrintToString(tags);
  }
  // Brand-only and product-only words still give closed entities.
  for (const char* q : {"华", "小米小米小米", "鞋鞋鞋鞋鞋"}) {
    EXPECT_EQ(FirstInvalidTag((*tagger)->PredictTags(Chars(q))), -1) << q;
  }
}

TEST(EntityTaggerTest, EmptyAndInvalidUtf8Input) {
  auto tagger = EntityTagger::Train(Synthetic(100, 10, false), nullptr, Gazetteer(), {});
  ASSERT_OK(tagger);
  EXPECT_TRUE((*tagger)->Tag("").empty());
  EXPECT_TRUE((*tagger)->PredictTags({}).empty());
  const std::string bad = "\xff\xfe华为\xe5\x8d手机\xc0";
  const auto e = (*tagger)->Tag(bad);
  for (const TaggedEntity& x : e) {
    ASSERT_LE(x.begin, x.end);
    ASSERT_LE(x.end, bad.size());
    EXPECT_EQ(x.text, bad.substr(x.begin, x.end - x.begin));
  }
  std::string random_bytes;
  std::mt19937_64 rng(11);
  for (int i = 0; i < 2000; ++i) random_bytes.push_back(static_cast<char>(rng() & 0xFF));
  for (const TaggedEntity& x : (*tagger)->Tag(random_bytes)) ASSERT_LE(x.end, random_bytes.size());
}

TEST(EntityTaggerTest, BadTrainingInputIsInvalidArgument) {
  EXPECT_EQ(EntityTagger::Train({}, nullptr, Gazetteer(), {}).status().code(),
            StatusCode::kInvalidArgument);
  TaggedSentence broken;
  broken.chars = {"a", "b"};
  broken.tags = {"B-HP", "O"};
  broken.first_line = 42;
  auto r = EntityTagger::Train({broken}, nullptr, Gazetteer(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("line 42"), std::string::npos);
  TaggerOptions zero;
  zero.epochs = 0;
  EXPECT_FALSE(EntityTagger::Train(Synthetic(10, 1, false), nullptr, Gazetteer(), zero).ok());
}

TEST(EntityTaggerTest, SaveLoadGivesIdenticalTags) {
  Gazetteer dict;
  dict.Add("HP", "耐克");
  dict.Add("HC", "手机");
  auto tagger = EntityTagger::Train(Synthetic(200, 12, false), nullptr, dict, {});
  ASSERT_OK(tagger);
  const auto dir = testing::TempDir("tagger");
  const std::string path = (dir / "tagger.bin").string();
  ASSERT_OK((*tagger)->Save(path));
  auto loaded = EntityTagger::Load(path);
  ASSERT_OK(loaded);
  EXPECT_EQ((*loaded)->types(), (*tagger)->types());
  EXPECT_EQ((*loaded)->gazetteer().size(), (*tagger)->gazetteer().size());
  EXPECT_EQ((*loaded)->training_summary().epochs_run, (*tagger)->training_summary().epochs_run);
  for (const TaggedSentence& s : Synthetic(100, 13, true)) {
    ASSERT_EQ((*loaded)->PredictTags(s.chars), (*tagger)->PredictTags(s.chars));
    ASSERT_EQ((*loaded)->Tag(s.Text()), (*tagger)->Tag(s.Text()));
  }
  // Saving the loaded model gives the same bytes.
  const std::string path2 = (dir / "tagger2.bin").string();
  ASSERT_OK((*loaded)->Save(path2));
  auto slurp = [](const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string bytes = slurp(path);
  EXPECT_EQ(bytes, slurp(path2));

  // Corrupt and truncated files are DataLoss naming the path; missing is NotFound.
  const std::string cut = (dir / "cut.bin").string();
  {
    std::ofstream out(cut, std::ios::binary);
    out << bytes.substr(0, bytes.size() / 2);
  }
  auto r = EntityTagger::Load(cut);
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("cut.bin"), std::string::npos);
  const std::string junk = (dir / "junk.bin").string();
  {
    std::ofstream out(junk, std::ios::binary);
    out << "hello world, not a model";
  }
  EXPECT_EQ(EntityTagger::Load(junk).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(EntityTagger::Load((dir / "absent.bin").string()).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ((*tagger)->Save("/nonexistent-dir/x/tagger.bin").code(), StatusCode::kUnavailable);
}

// ---------------------------------------------------------------------------
// Real data: Ding et al. (ACL 2019) e-commerce NER (EVAL.md E).

TEST(EntityTaggerDataTest, TrainOnTrainReachesDevF1) {
  SOUK_REQUIRE_DATA(train_path, "cn-ecommerce-ner/train.txt.bieos");
  SOUK_REQUIRE_DATA(dev_path, "cn-ecommerce-ner/dev.txt.bieos");
  SOUK_REQUIRE_DATA(brand_path, "cn-ecommerce-ner/brand1.dic");
  SOUK_REQUIRE_DATA(product_path, "cn-ecommerce-ner/product1.dic");
  BieosReadOptions repair;
  repair.repair_invalid = true;  // one sentence of the train file is broken (line 83)
  BieosReadStats stats;
  auto train = ReadBieos(train_path.string(), repair, &stats);
  ASSERT_OK(train);
  EXPECT_EQ(stats.repaired_sentences, 1u);
  auto dev = ReadBieos(dev_path.string());  // dev is clean
  ASSERT_OK(dev);
  EXPECT_EQ(dev->size(), 500u);
  EXPECT_EQ(ReadBieos(train_path.string()).status().code(), StatusCode::kDataLoss);

  Gazetteer gaz;
  ASSERT_OK(gaz.LoadFile("HP", brand_path.string()));
  ASSERT_OK(gaz.LoadFile("HC", product_path.string()));
  const auto t0 = std::chrono::steady_clock::now();
  auto tagger = EntityTagger::Train(*train, &*dev, gaz, {});
  ASSERT_OK(tagger);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EntityMatchStats s;
  for (const TaggedSentence& x : *dev) {
    s.Add(EntitiesFromTags(x.chars, x.tags),
          EntitiesFromTags(x.chars, (*tagger)->PredictTags(x.chars)));
  }
  std::printf(
      "dev: P %.4f R %.4f F1 %.4f  HP F1 %.4f  HC F1 %.4f  best epoch %d/%d  "
      "features %llu  train %.1f s\n",
      s.micro().precision(), s.micro().recall(), s.micro().f1(), s.ForType("HP").f1(),
      s.ForType("HC").f1(), (*tagger)->training_summary().best_epoch,
      (*tagger)->training_summary().epochs_run,
      static_cast<unsigned long long>((*tagger)->training_summary().num_features), seconds);
  for (double f : (*tagger)->training_summary().dev_f1) std::printf(" %.4f", f);
  std::printf("\n");
  EXPECT_GE(s.micro().f1(), 0.70);
}

}  // namespace
}  // namespace souk::search
