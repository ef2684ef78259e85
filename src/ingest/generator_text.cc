// Text of the synthetic store: ids, titles, descriptions, queries, CSV quoting
// and the buffered file writer.
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ingest/generator_internal.h"

namespace souk::gen::internal {

std::string ItemId(uint32_t index) { return fmt::format("P{:06d}", index + 1); }
std::string UserId(uint32_t index) { return fmt::format("U{:06d}", index + 1); }
std::string SessionId(uint64_t index) { return fmt::format("S{:08d}", index + 1); }

namespace {

const LeafSpec& SpecOf(const Item& item) { return *Leaves()[item.leaf].spec; }
ProductKind KindOf(const Item& item) { return SpecOf(item).kind; }
int TopOf(const Item& item) { return Leaves()[item.leaf].top; }
const BrandSpec& BrandOf(const Item& item) { return BrandsOf(TopOf(item))[item.brand]; }

// "Frying Pans" -> "Frying Pan"; consumables, books and pair-nouns keep the name.
std::string SingularNoun(const Item& item) {
  std::string n(SpecOf(item).en);
  ProductKind k = KindOf(item);
  if (IsConsumable(k) || k == ProductKind::kBook) return n;
  static const std::vector<std::string_view> kKeep = {
      "Headphones", "Earbuds", "Jeans", "Sunglasses", "Chopsticks", "Swim Goggles",
      "Running Shorts", "Kids' Pajamas", "Building Blocks", "Resistance Bands",
      "Bed Sheets", "Kids' Shoes", "Sneakers", "Running Shoes", "Boots", "Sandals"};
  if (std::find(kKeep.begin(), kKeep.end(), n) != kKeep.end()) return n;
  if (n == "Mice") return "Mouse";
  if (n == "Shelves") return "Shelf";
  if (n == "Camera Lenses") return "Camera Lens";
  auto ends = [&](std::string_view suf) {
    return n.size() >= suf.size() && n.compare(n.size() - suf.size(), suf.size(), suf) == 0;
  };
  if (ends("sses") || ends("xes") || ends("ches") || ends("shes")) return n.substr(0, n.size() - 2);
  if (ends("s") && !ends("ss")) return n.substr(0, n.size() - 1);
  return n;
}

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string Model(const Item& item) {
  return fmt::format("{}{} {}", ModelPrefixes()[item.model_prefix],
                     ModelSuffixes()[item.model_suffix], item.model_number);
}

bool HasModel(ProductKind k) { return k == ProductKind::kDevice; }

std::string_view ColorWord(const Item& item, Lang lang) {
  const WordPair& w = Colors()[item.color];
  return lang == Lang::kZh ? w.zh : w.en;
}
std::string_view MaterialWord(const Item& item, Lang lang) {
  const auto& m = MaterialsOf(KindOf(item));
  if (m.empty()) return {};
  return lang == Lang::kZh ? m[item.material].zh : m[item.material].en;
}
std::string_view SizeWord(const Item& item, Lang lang) {
  const auto& m = SizesOf(KindOf(item));
  if (m.empty()) return {};
  return lang == Lang::kZh ? m[item.size].zh : m[item.size].en;
}
std::string_view FeatureWord(const Item& item, Lang lang) {
  const WordPair& w = FeaturesOf(KindOf(item))[item.feature];
  return lang == Lang::kZh ? w.zh : w.en;
}
std::string AmountWord(const Item& item, Lang lang) {
  const auto& a = AmountsOf(KindOf(item));
  if (a.empty()) return {};
  std::string s(a[item.amount]);
  if (lang == Lang::kZh && s.size() > 4 && s.compare(s.size() - 4, 4, " pcs") == 0) {
    s = s.substr(0, s.size() - 4) + "片装";
  }
  return s;
}

constexpr std::string_view kBookAdjEn[] = {"Silent", "Hidden", "Golden", "Last",
                                           "Quiet",  "Lost",   "Bright"};
constexpr std::string_view kBookNounEn[] = {"River",   "Garden", "City",  "Kitchen",
                                            "Journey", "Harbor", "Summer"};
constexpr std::string_view kBookAdjZh[] = {"寂静的", "隐秘的", "金色的", "最后的",
                                           "安静的", "迷失的", "明亮的"};
constexpr std::string_view kBookNounZh[] = {"河流", "花园", "城市", "厨房",
                                            "旅程", "港湾", "夏天"};

std::string TitleEn(const Item& item) {
  const BrandSpec& b = BrandOf(item);
  const ProductKind k = KindOf(item);
  const std::string noun = SingularNoun(item);
  switch (k) {
    case ProductKind::kDevice:
      return fmt::format("{} {} {} {}, {}", b.en, Model(item), FeatureWord(item, Lang::kEn),
                         noun, ColorWord(item, Lang::kEn));
    case ProductKind::kApparel:
    case ProductKind::kShoes:
      return fmt::format("{} {} {} {}, {}, Size {}", b.en, FeatureWord(item, Lang::kEn),
                         MaterialWord(item, Lang::kEn), noun, ColorWord(item, Lang::kEn),
                         SizeWord(item, Lang::kEn));
    case ProductKind::kHome:
      return fmt::format("{} {} {} {}, {}, {}", b.en, FeatureWord(item, Lang::kEn),
                         MaterialWord(item, Lang::kEn), noun, ColorWord(item, Lang::kEn),
                         SizeWord(item, Lang::kEn));
    case ProductKind::kLiquid:
    case ProductKind::kFood:
    case ProductKind::kPack:
      return fmt::format("{} {} {}, {}", b.en, FeatureWord(item, Lang::kEn), noun,
                         AmountWord(item, Lang::kEn));
    case ProductKind::kBook:
      return fmt::format("The {} {} ({} {}, {}), {}", kBookAdjEn[item.model_prefix % 7],
                         kBookNounEn[item.model_suffix % 7], FeatureWord(item, Lang::kEn),
                         noun.substr(0, noun.size() - 1), SizeWord(item, Lang::kEn), b.en);
  }
  return b.en.data();
}

std::string TitleZh(const Item& item) {
  const BrandSpec& b = BrandOf(item);
  const ProductKind k = KindOf(item);
  const std::string_view noun = SpecOf(item).zh;
  switch (k) {
    case ProductKind::kDevice:
      return fmt::format("{} {} {}{} {}", b.zh, Model(item), FeatureWord(item, Lang::kZh), noun,
                         ColorWord(item, Lang::kZh));
    case ProductKind::kApparel:
    case ProductKind::kShoes:
    case ProductKind::kHome:
      return fmt::format("{} {}{}{} {} {}", b.zh, FeatureWord(item, Lang::kZh),
                         MaterialWord(item, Lang::kZh), noun, ColorWord(item, Lang::kZh),
                         SizeWord(item, Lang::kZh));
    case ProductKind::kLiquid:
    case ProductKind::kFood:
    case ProductKind::kPack:
      return fmt::format("{} {}{} {}", b.zh, FeatureWord(item, Lang::kZh), noun,
                         AmountWord(item, Lang::kZh));
    case ProductKind::kBook:
      return fmt::format("{} {}{}《{}{}》 {}", b.zh, FeatureWord(item, Lang::kZh), noun,
                         kBookAdjZh[item.model_prefix % 7], kBookNounZh[item.model_suffix % 7],
                         SizeWord(item, Lang::kZh));
  }
  return std::string(b.zh);
}

}  // namespace

std::string ItemTitle(const Item& item) {
  if (item.lang == Lang::kEn) return TitleEn(item);
  std::string t = TitleZh(item);
  return item.traditional ? ToTraditional(t) : t;
}

std::string ItemCategoryPath(const Item& item) {
  const Leaf& leaf = Leaves()[item.leaf];
  if (item.lang == Lang::kEn) return leaf.path_en;
  return item.traditional ? ToTraditional(leaf.path_zh) : leaf.path_zh;
}

std::string ItemDescription(const Item& item, uint64_t seed) {
  Rng rng(Mix(seed, 0xD35C));
  const BrandSpec& b = BrandOf(item);
  const ProductKind k = KindOf(item);
  std::string out;
  if (item.lang == Lang::kEn) {
    out = fmt::format("Meet the {} {}{} - {} and made for everyday use.", b.en,
                      HasModel(k) ? Model(item) + " " : std::string(), SingularNoun(item),
                      Lower(std::string(FeatureWord(item, Lang::kEn))));
    if (!MaterialWord(item, Lang::kEn).empty()) {
      out += fmt::format(" Made of {}, it comes in {}.",
                         Lower(std::string(MaterialWord(item, Lang::kEn))),
                         Lower(std::string(ColorWord(item, Lang::kEn))));
    }
    switch (k) {
      case ProductKind::kDevice:
        out += fmt::format(" Reliable performance, backed by a {}-month warranty.",
                           rng.Chance(0.5) ? 12 : 24);
        break;
      case ProductKind::kApparel:
      case ProductKind::kShoes:
        out += " A comfortable fit for work and weekends; true to size.";
        break;
      case ProductKind::kHome:
        out += " Easy to clean and built to last.";
        break;
      case ProductKind::kLiquid:
      case ProductKind::kFood:
      case ProductKind::kPack:
        out += fmt::format(" Each package contains {}. Store in a cool, dry place.",
                           AmountWord(item, Lang::kEn));
        break;
      case ProductKind::kBook:
        out += " A story readers return to again and again.";
        break;
    }
    if (rng.Chance(0.5)) out += " Free returns within 30 days.";
  } else {
    out = fmt::format("{}{}，{}设计，适合日常使用。", b.zh, SpecOf(item).zh,
                      FeatureWord(item, Lang::kZh));
    if (!MaterialWord(item, Lang::kZh).empty()) {
      out += fmt::format("采用{}材质，{}款式，简约大方。", MaterialWord(item, Lang::kZh),
                         ColorWord(item, Lang::kZh));
    }
    if (IsConsumable(k)) {
      out += fmt::format("每件规格{}，品质优良。", AmountWord(item, Lang::kZh));
    } else if (k == ProductKind::kDevice) {
      out += "性能可靠，送礼佳选。";
    }
    if (rng.Chance(0.5)) out += "支持七天无理由退换。";
    if (item.traditional) out = ToTraditional(out);
  }
  return out;
}

namespace {

void AddTypo(std::string* q, Rng& rng) {
  // Pick an ASCII word of length >= 4 and swap, drop, double or replace a letter.
  std::vector<std::pair<size_t, size_t>> words;
  size_t i = 0;
  while (i < q->size()) {
    while (i < q->size() && (*q)[i] == ' ') ++i;
    size_t j = i;
    bool ascii = true;
    while (j < q->size() && (*q)[j] != ' ') {
      if (static_cast<unsigned char>((*q)[j]) >= 0x80) ascii = false;
      ++j;
    }
    if (ascii && j - i >= 4) words.emplace_back(i, j);
    i = j;
  }
  if (words.empty()) return;
  auto [b, e] = words[rng.Below(words.size())];
  size_t p = b + 1 + rng.Below(e - b - 2);  // never the first letter
  switch (rng.Below(4)) {
    case 0: std::swap((*q)[p], (*q)[p + 1]); break;
    case 1: q->erase(p, 1); break;
    case 2: q->insert(p, 1, (*q)[p]); break;
    default: (*q)[p] = static_cast<char>('a' + rng.Below(26)); break;
  }
}

// Drops one Chinese character (3-byte UTF-8) from a query with at least 3 of them.
void AddZhTypo(std::string* q, Rng& rng) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < q->size(); ++i) {
    auto c = static_cast<unsigned char>((*q)[i]);
    if ((c >> 4) == 0xE) starts.push_back(i);
  }
  if (starts.size() < 3) return;
  q->erase(starts[1 + rng.Below(starts.size() - 1)], 3);
}

}  // namespace

std::string MakeQuery(const Item& item, const User& user, double typo_rate, Rng& rng) {
  const ProductKind k = KindOf(item);
  const BrandSpec& b = BrandOf(item);
  const double r = rng.Uniform();
  std::string q;
  if (user.lang == Lang::kEn) {
    const std::string noun = Lower(SingularNoun(item));
    const bool has_color = !IsConsumable(k) && k != ProductKind::kBook;
    if (r < 0.25) {
      q = noun;
    } else if (r < 0.42) {
      q = Lower(fmt::format("{} {}", FeatureWord(item, Lang::kEn), noun));
    } else if (r < 0.57 && has_color) {
      q = Lower(fmt::format("{} {}", ColorWord(item, Lang::kEn), noun));
    } else if (r < 0.72) {
      q = Lower(fmt::format("{} {}", b.en, noun));
    } else if (r < 0.82 && HasModel(k)) {
      q = Lower(fmt::format("{} {}", b.en, Model(item)));
    } else if (r < 0.88) {
      const double cap = item.lang == Lang::kZh ? item.price / 7.1 : item.price;
      int bound = cap < 20 ? 20 : cap < 50 ? 50 : cap < 100 ? 100 : cap < 500 ? 500 : 1000;
      q = fmt::format("{} under {}", noun, bound);
    } else if (r < 0.94 && !MaterialWord(item, Lang::kEn).empty()) {
      q = Lower(fmt::format("{} {}", MaterialWord(item, Lang::kEn), noun));
    } else if (!SizeWord(item, Lang::kEn).empty() &&
               (k == ProductKind::kApparel || k == ProductKind::kShoes)) {
      q = Lower(fmt::format("{} {}", noun, SizeWord(item, Lang::kEn)));
    } else {
      q = noun;
    }
    if (rng.Chance(typo_rate)) AddTypo(&q, rng);
  } else {
    const std::string_view noun = SpecOf(item).zh;
    const bool has_color = !IsConsumable(k) && k != ProductKind::kBook;
    if (r < 0.3) {
      q = std::string(noun);
    } else if (r < 0.5) {
      q = fmt::format("{}{}", FeatureWord(item, Lang::kZh), noun);
    } else if (r < 0.65 && has_color) {
      q = fmt::format("{}{}", ColorWord(item, Lang::kZh), noun);
    } else if (r < 0.85) {
      q = fmt::format("{}{}", b.zh, noun);
    } else if (r < 0.93 && HasModel(k)) {
      q = fmt::format("{} {}", b.zh, Model(item));
    } else if (!MaterialWord(item, Lang::kZh).empty()) {
      q = fmt::format("{}{}", MaterialWord(item, Lang::kZh), noun);
    } else {
      q = std::string(noun);
    }
    if (rng.Chance(typo_rate)) AddZhTypo(&q, rng);
    if (user.traditional) q = ToTraditional(q);
  }
  return q;
}

void AppendCsvField(std::string_view field, std::string* out) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(field);
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

FileWriter::~FileWriter() {
  if (f_ != nullptr) std::fclose(f_);
}

Status FileWriter::Open(const std::string& path) {
  path_ = path;
  f_ = std::fopen(path.c_str(), "wb");
  if (f_ == nullptr) {
    return InternalError(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  }
  return OkStatus();
}

void FileWriter::Write(std::string_view data) {
  if (f_ == nullptr || failed_ || data.empty()) return;
  if (std::fwrite(data.data(), 1, data.size(), f_) != data.size()) failed_ = true;
  bytes_ += data.size();
}

Status FileWriter::Close() {
  if (f_ == nullptr) return OkStatus();
  const bool close_failed = std::fclose(f_) != 0;
  f_ = nullptr;
  if (failed_ || close_failed) {
    return DataLossError(fmt::format("write to {} failed (disk full?)", path_));
  }
  return OkStatus();
}

}  // namespace souk::gen::internal
