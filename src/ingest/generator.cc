// GenerateStore: orchestrates catalog, users, behavior and ground truth files.
#include "ingest/generator.h"

#include "common/time.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "ingest/generator_internal.h"

namespace souk::gen {

using internal::Catalog;
using internal::FileWriter;
using internal::Item;
using internal::Lang;
using internal::User;

namespace {

constexpr int kFormatVersion = 1;

double Round4(double x) { return std::round(x * 1e4) / 1e4; }

Status WriteItems(const GeneratorOptions& options, const Catalog& catalog, const std::string& path) {
  FileWriter w;
  RETURN_IF_ERROR(w.Open(path));
  ProgressOptions popts = options.progress;
  popts.unit = "items";
  Progress progress("generate items", catalog.items.size(), popts);
  std::string buf;
  for (uint32_t i = 0; i < catalog.items.size(); ++i) {
    const Item& it = catalog.items[i];
    const auto& leaf = internal::Leaves()[it.leaf];
    const internal::ProductKind kind = leaf.spec->kind;
    const bool zh = it.lang == Lang::kZh;
    auto word = [&](const internal::WordPair& p) {
      std::string s(zh ? p.zh : p.en);
      return it.traditional ? internal::ToTraditional(s) : s;
    };
    const std::string id = internal::ItemId(i);
    nlohmann::ordered_json j;
    j["id"] = id;
    j["title"] = internal::ItemTitle(it);
    j["description"] = internal::ItemDescription(it, internal::Mix(options.seed, i));
    const auto& brand = internal::BrandsOf(leaf.top)[it.brand];
    j["brand"] = it.traditional ? internal::ToTraditional(brand.zh)
                                : std::string(zh ? brand.zh : brand.en);
    j["category"] = internal::ItemCategoryPath(it);
    j["price"] = it.price;
    j["currency"] = zh ? "CNY" : "USD";
    nlohmann::ordered_json attrs = nlohmann::ordered_json::object();
    if (!internal::IsConsumable(kind) && kind != internal::ProductKind::kBook) {
      attrs["color"] = word(internal::Colors()[it.color]);
    }
    if (!internal::SizesOf(kind).empty()) attrs["size"] = word(internal::SizesOf(kind)[it.size]);
    if (!internal::MaterialsOf(kind).empty()) {
      attrs["material"] = word(internal::MaterialsOf(kind)[it.material]);
    }
    if (!internal::AmountsOf(kind).empty()) {
      const char* key = kind == internal::ProductKind::kLiquid ? "volume"
                        : kind == internal::ProductKind::kFood ? "weight"
                                                               : "count";
      attrs[key] = std::string(internal::AmountsOf(kind)[it.amount]);
    }
    j["attributes"] = std::move(attrs);
    j["images"] = nlohmann::ordered_json::array({"https://img.example.com/" + id + ".jpg"});
    j["in_stock"] = internal::Mix(options.seed ^ 0x570C, i) % 100 >= 4;  // ~4% out of stock
    j["language"] = zh ? "zh" : "en";
    j["created_at"] = FormatTimestamp(it.created_at);
    buf += j.dump();
    buf.push_back('\n');
    w.Flush(&buf);
    if ((i & 1023) == 1023) progress.Add(1024);
  }
  progress.Set(catalog.items.size());
  progress.Finish();
  w.Flush(&buf, 0);
  return w.Close();
}

Status WriteUsers(const GeneratorOptions& options, const std::vector<User>& users,
                  const std::string& users_path, const std::string& prefs_path,
                  const std::string& bots_path, int64_t* n_bots) {
  FileWriter uw, pw, bw;
  RETURN_IF_ERROR(uw.Open(users_path));
  RETURN_IF_ERROR(pw.Open(prefs_path));
  RETURN_IF_ERROR(bw.Open(bots_path));
  bw.Write("user_id\n");
  const auto& leaves = internal::Leaves();
  std::string ubuf, pbuf, bbuf;
  constexpr const char* kDevice[] = {"mobile", "desktop", "tablet"};
  for (uint32_t u = 0; u < users.size(); ++u) {
    const User& us = users[u];
    const std::string id = internal::UserId(u);
    nlohmann::ordered_json j;
    j["id"] = id;
    j["attributes"] = {{"country", std::string(internal::Countries(us.lang)[us.country])},
                       {"segment", std::string(internal::SegmentOf(us))},
                       {"language", us.lang == Lang::kZh ? "zh" : "en"}};
    j["created_at"] = FormatTimestamp(us.created_at);
    ubuf += j.dump();
    ubuf.push_back('\n');

    nlohmann::ordered_json p;
    p["user_id"] = id;
    p["bot"] = us.bot;
    nlohmann::ordered_json cats = nlohmann::ordered_json::array();
    for (int k = 0; k < 3; ++k) {
      if (us.fav_weight[k] <= 0) continue;
      cats.push_back({{"category", leaves[us.fav_leaf[k]].path_en},
                      {"weight", Round4(us.fav_weight[k])}});
    }
    p["favorite_categories"] = std::move(cats);
    nlohmann::ordered_json brands = nlohmann::ordered_json::array();
    for (int k = 0; k < 2; ++k) {
      brands.push_back(
          {{"brand", std::string(internal::BrandsOf(us.fav_brand_top[k])[us.fav_brand[k]].en)},
           {"top_category", std::string(internal::Taxonomy()[us.fav_brand_top[k]].en)}});
    }
    p["favorite_brands"] = std::move(brands);
    p["price_level"] = Round4(us.price_level);
    p["price_sensitivity"] = Round4(us.price_sensitivity);
    p["buy_propensity"] = Round4(us.buy_propensity);
    p["activity"] = Round4(us.activity);
    p["device"] = kDevice[static_cast<int>(us.device)];
    p["replenish_cycle_days"] = us.cycle_days;
    pbuf += p.dump();
    pbuf.push_back('\n');
    if (us.bot) {
      bbuf += id;
      bbuf.push_back('\n');
      ++*n_bots;
    }
    uw.Flush(&ubuf);
    pw.Flush(&pbuf);
    bw.Flush(&bbuf);
  }
  uw.Flush(&ubuf, 0);
  pw.Flush(&pbuf, 0);
  bw.Flush(&bbuf, 0);
  RETURN_IF_ERROR(uw.Close());
  RETURN_IF_ERROR(pw.Close());
  return bw.Close();
}

Status WriteCatalogTruth(const Catalog& catalog, const std::string& complements_path,
                         const std::string& outliers_path, int64_t* n_pairs, int64_t* n_outliers) {
  FileWriter cw, ow;
  RETURN_IF_ERROR(cw.Open(complements_path));
  RETURN_IF_ERROR(ow.Open(outliers_path));
  cw.Write("item_id,complement_item_id,strength\n");
  ow.Write("item_id,price,currency,typical_price\n");
  std::string cbuf, obuf;
  for (uint32_t i = 0; i < catalog.items.size(); ++i) {
    for (uint32_t k = catalog.comp_begin[i]; k < catalog.comp_begin[i + 1]; ++k) {
      fmt::format_to(std::back_inserter(cbuf), "{},{},{}\n", internal::ItemId(i),
                     internal::ItemId(catalog.comp_items[k]),
                     Round4(catalog.comp_strength[k]));
      ++*n_pairs;
    }
    const Item& it = catalog.items[i];
    if (it.outlier) {
      fmt::format_to(std::back_inserter(obuf), "{},{},{},{:.2f}\n", internal::ItemId(i), it.price,
                     it.lang == Lang::kZh ? "CNY" : "USD", it.median);
      ++*n_outliers;
    }
    cw.Flush(&cbuf);
    ow.Flush(&obuf);
  }
  cw.Flush(&cbuf, 0);
  ow.Flush(&obuf, 0);
  RETURN_IF_ERROR(cw.Close());
  return ow.Close();
}

}  // namespace

std::string FormatTimestamp(int64_t t) { return FormatTimestampMs(t * 1000); }

StatusOr<std::vector<std::string>> ParseLanguages(const std::string& csv) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= csv.size()) {
    size_t end = csv.find(',', start);
    if (end == std::string::npos) end = csv.size();
    std::string lang = csv.substr(start, end - start);
    while (!lang.empty() && lang.back() == ' ') lang.pop_back();
    while (!lang.empty() && lang.front() == ' ') lang.erase(lang.begin());
    if (lang != "en" && lang != "zh") {
      return InvalidArgumentError(
          fmt::format("--lang: unknown language '{}' in '{}' (expected en, zh or en,zh)", lang, csv));
    }
    if (std::find(out.begin(), out.end(), lang) == out.end()) out.push_back(lang);
    start = end + 1;
  }
  return out;
}

Status ValidateOptions(const GeneratorOptions& o) {
  constexpr int64_t kMaxCount = 100'000'000;
  if (o.items < 1 || o.items > kMaxCount) {
    return InvalidArgumentError(fmt::format("items must be in [1, {}], got {}", kMaxCount, o.items));
  }
  if (o.users < 1 || o.users > kMaxCount) {
    return InvalidArgumentError(fmt::format("users must be in [1, {}], got {}", kMaxCount, o.users));
  }
  if (o.days < 1 || o.days > 3650) {
    return InvalidArgumentError(fmt::format("days must be in [1, 3650], got {}", o.days));
  }
  if (o.holdout_days < 0 || o.holdout_days >= o.days) {
    return InvalidArgumentError(fmt::format(
        "holdout_days must be in [0, days) = [0, {}), got {}", o.days, o.holdout_days));
  }
  if (o.events_target < 0 || o.events_target > 20 * kMaxCount) {
    return InvalidArgumentError(fmt::format("events_target must be in [0, {}], got {}",
                                            20 * kMaxCount, o.events_target));
  }
  if (!(o.sessions_per_user_day >= 0 && o.sessions_per_user_day <= 100)) {
    return InvalidArgumentError(fmt::format("sessions_per_user_day must be in [0, 100], got {}",
                                            o.sessions_per_user_day));
  }
  const std::pair<const char*, double> fractions[] = {
      {"bot_fraction", o.bot_fraction},
      {"price_outlier_fraction", o.price_outlier_fraction},
      {"traditional_fraction", o.traditional_fraction},
      {"typo_rate", o.typo_rate},
      {"zh_share", o.zh_share}};
  for (const auto& [name, v] : fractions) {
    if (!(v >= 0 && v <= 1)) {
      return InvalidArgumentError(fmt::format("{} must be in [0, 1], got {}", name, v));
    }
  }
  if (o.languages.empty()) return InvalidArgumentError("languages must not be empty");
  for (const std::string& l : o.languages) {
    if (l != "en" && l != "zh") {
      return InvalidArgumentError(fmt::format("languages: unknown language '{}'", l));
    }
  }
  if (o.out_dir.empty()) return InvalidArgumentError("out_dir must not be empty");
  return OkStatus();
}

StatusOr<GeneratorSummary> GenerateStore(const GeneratorOptions& options) {
  RETURN_IF_ERROR(ValidateOptions(options));
  const auto t0 = std::chrono::steady_clock::now();
  namespace fs = std::filesystem;
  const fs::path dir(options.out_dir);
  const fs::path gt = dir / "ground_truth";
  std::error_code ec;
  fs::create_directories(gt, ec);
  if (ec) {
    return InternalError(fmt::format("cannot create output directory {}: {}", gt.string(),
                                     ec.message()));
  }
  std::vector<Lang> langs;
  for (const std::string& l : options.languages) langs.push_back(l == "zh" ? Lang::kZh : Lang::kEn);

  GeneratorSummary s;
  s.out_dir = dir.string();
  auto file = [&](const std::string& name, const fs::path& p) {
    s.files[name] = p.string();
    return p.string();
  };

  const Catalog catalog = internal::BuildCatalog(options, langs);
  RETURN_IF_ERROR(WriteItems(options, catalog, file("items", dir / "items.jsonl")));
  s.items = static_cast<int64_t>(catalog.items.size());
  RETURN_IF_ERROR(WriteCatalogTruth(catalog, file("complements", gt / "complements.csv"),
                                    file("price_outliers", gt / "price_outliers.csv"),
                                    &s.complement_pairs, &s.price_outliers));

  std::vector<User> users = internal::BuildUsers(options, catalog, langs);
  s.users = static_cast<int64_t>(users.size());
  RETURN_IF_ERROR(WriteUsers(options, users, file("users", dir / "users.jsonl"),
                             file("user_preferences", gt / "user_preferences.jsonl"),
                             file("bots", gt / "bots.csv"), &s.bots));

  internal::BehaviorCounts counts;
  file("events", dir / "events.csv");
  file("holdout_events", gt / "holdout_events.csv");
  file("future_purchases", gt / "future_purchases.csv");
  file("sessions", gt / "sessions.csv");
  RETURN_IF_ERROR(internal::SimulateBehavior(options, catalog, users, dir.string(), &counts));
  s.sessions = counts.sessions;
  s.events_train = counts.events_train;
  s.events_holdout = counts.events_holdout;
  s.events = counts.events_train + counts.events_holdout;
  s.purchases = counts.purchases;
  s.future_purchases = counts.future_purchases;
  const int64_t cutoff =
      options.start_time + static_cast<int64_t>(options.days - options.holdout_days) * 86400;
  s.cutoff = FormatTimestamp(cutoff);

  // The manifest holds no timing, so that it is deterministic too.
  nlohmann::ordered_json m;
  m["format"] = "souk-import";
  m["format_version"] = kFormatVersion;
  m["generator"] = "souk generate";
  m["seed"] = options.seed;
  m["options"] = {{"items", options.items},
                  {"users", options.users},
                  {"days", options.days},
                  {"languages", options.languages},
                  {"events_target", options.events_target},
                  {"sessions_per_user_day", options.sessions_per_user_day},
                  {"holdout_days", options.holdout_days},
                  {"bot_fraction", options.bot_fraction},
                  {"price_outlier_fraction", options.price_outlier_fraction},
                  {"traditional_fraction", options.traditional_fraction},
                  {"typo_rate", options.typo_rate},
                  {"zh_share", options.zh_share}};
  m["start"] = FormatTimestamp(options.start_time);
  m["end"] = FormatTimestamp(options.start_time + int64_t{options.days} * 86400);
  m["cutoff"] = s.cutoff;
  m["counts"] = {{"items", s.items},
                 {"users", s.users},
                 {"bots", s.bots},
                 {"sessions", s.sessions},
                 {"events", s.events},
                 {"events_train", s.events_train},
                 {"events_holdout", s.events_holdout},
                 {"purchases", s.purchases},
                 {"future_purchases", s.future_purchases},
                 {"complement_pairs", s.complement_pairs},
                 {"price_outliers", s.price_outliers}};
  {
    FileWriter mw;
    RETURN_IF_ERROR(mw.Open(file("manifest", gt / "manifest.json")));
    mw.Write(m.dump(2));
    mw.Write("\n");
    RETURN_IF_ERROR(mw.Close());
  }
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

nlohmann::json SummaryToJson(const GeneratorSummary& s) {
  nlohmann::json files = nlohmann::json::object();
  for (const auto& [name, path] : s.files) files[name] = path;
  return nlohmann::json{{"out", s.out_dir},
                        {"items", s.items},
                        {"users", s.users},
                        {"bots", s.bots},
                        {"events", s.events},
                        {"events_train", s.events_train},
                        {"events_holdout", s.events_holdout},
                        {"sessions", s.sessions},
                        {"purchases", s.purchases},
                        {"future_purchases", s.future_purchases},
                        {"complement_pairs", s.complement_pairs},
                        {"price_outliers", s.price_outliers},
                        {"cutoff", s.cutoff},
                        {"seconds", std::round(s.seconds * 1000) / 1000},
                        {"files", files}};
}

}  // namespace souk::gen
