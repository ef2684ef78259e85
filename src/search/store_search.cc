#include "search/store_search.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "common/file.h"
#include "eval/metrics.h"
#include "lm/encoder_registry.h"

namespace souk::search {
namespace fs = std::filesystem;
namespace {

constexpr int kManifestVersion = 1;

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Items of the snapshot in store order (stubs and deleted items are not searchable).
Status AddItems(store::Snapshot& snap, SearchCatalog& catalog,
                const std::vector<std::string>* order) {
  std::unordered_map<std::string, store::Item> items;
  std::vector<std::string> store_order;
  RETURN_IF_ERROR(snap.ForEachItem([&](const store::StoredItem& it) {
    if (it.deleted || it.item.is_stub || it.item.title.empty()) return true;
    store_order.push_back(it.item.external_id);
    items.emplace(it.item.external_id, it.item);
    return true;
  }));
  if (order != nullptr) {
    // The indexed order first (missing items keep their number as empty docs
    // so numbers stay aligned), then items added since.
    std::unordered_set<std::string> seen;
    for (const std::string& id : *order) {
      auto it = items.find(id);
      if (it != items.end()) {
        catalog.Add(it->second);
      } else {
        CatalogDoc gone;
        gone.external_id = id;
        catalog.Remove(catalog.Add(std::move(gone)));
      }
      seen.insert(id);
    }
    for (const std::string& id : store_order) {
      if (!seen.count(id)) catalog.Add(items.at(id));
    }
  } else {
    for (const std::string& id : store_order) catalog.Add(items.at(id));
  }
  return OkStatus();
}

// Counts events into the catalog (popularity, CTR) and the user profiles.
Status AddEvents(store::Snapshot& snap, SearchCatalog& catalog, UserProfiles* profiles) {
  std::unordered_map<int64_t, std::string> item_ext;
  RETURN_IF_ERROR(snap.ForEachItem([&](const store::StoredItem& it) {
    item_ext[it.id] = it.item.external_id;
    return true;
  }));
  ASSIGN_OR_RETURN(std::vector<std::string> users, snap.UserIds());
  store::Event e;
  return snap.ForEachEvent([&](const store::StoredEvent& se) {
    auto it = item_ext.find(se.item);
    if (it == item_ext.end()) return true;
    e.item_id = it->second;
    e.user_id = se.user > 0 && static_cast<size_t>(se.user) < users.size() ? users[se.user] : "";
    e.type = se.type;
    e.value = se.value;
    e.timestamp_ms = se.timestamp_ms;
    catalog.AddEvent(e);
    if (profiles != nullptr) profiles->AddEvent(e);
    return true;
  });
}

// The category-intent classifier from logged searches: query terms -> every
// category level of the clicked items.
std::shared_ptr<CategoryClassifier> TrainClassifier(const std::vector<LoggedSearch>& log,
                                                    const SearchCatalog& catalog) {
  auto c = std::make_shared<CategoryClassifier>();
  for (const LoggedSearch& s : log) {
    std::vector<std::string> terms;
    bool analyzed = false;
    for (const LoggedResult& r : s.shown) {
      if (r.label < 1) continue;
      if (!analyzed) {
        terms = catalog.analyzer().Terms(s.query);
        analyzed = true;
      }
      const CatalogDoc& d = catalog.doc(r.doc);
      if (!d.category_path.empty()) c->Add(terms, catalog.Fold(d.category_path.back()), r.label);
    }
  }
  c->Finish();
  return c;
}

std::string ReadCurrent(const fs::path& dir) {
  std::ifstream f(dir / "CURRENT");
  std::string v;
  std::getline(f, v);
  return v;
}

}  // namespace

nlohmann::json IndexBuildSummary::ToJson() const {
  return {{"items", items},
          {"watermark", watermark},
          {"spelling_queries", spelling_queries},
          {"synonyms", synonyms},
          {"encoder", encoder},
          {"encoder_trained", encoder_trained},
          {"embedded", embedded},
          {"embedded_from_cache", embedded_from_cache},
          {"lexical_s", lexical_s},
          {"encoder_s", encoder_s},
          {"embed_s", embed_s},
          {"total_s", total_s}};
}

namespace {

std::vector<std::string> NumericKeys(const SearchCatalog& catalog) {
  std::set<std::string> keys;
  for (uint32_t d = 0; d < catalog.size(); ++d) {
    for (const auto& [k, v] : catalog.doc(d).numeric) keys.insert(k);
  }
  return {keys.begin(), keys.end()};
}

StatusOr<std::unique_ptr<text::Analyzer>> MakeAnalyzer(const index::LexicalIndexOptions& o) {
  text::Analyzer::Options ao;
  ao.stem_language = o.stem_language;
  return text::Analyzer::Create(ao);
}

// Synonyms mined from the log: two different queries whose searches led to
// purchases of at least `min_shared` common items (single-word queries only,
// so that the synonym table stays a word -> word map).
std::vector<std::pair<std::string, std::string>> MineSynonyms(const std::vector<LoggedSearch>& log,
                                                              const SearchCatalog& catalog,
                                                              int min_shared) {
  std::map<std::string, std::set<uint32_t>> bought;
  for (const LoggedSearch& s : log) {
    const std::vector<std::string> terms = catalog.analyzer().Terms(s.query);
    if (terms.size() != 1) continue;
    for (const LoggedResult& r : s.shown) {
      if (r.label >= 3) bought[terms[0]].insert(r.doc);
    }
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (auto a = bought.begin(); a != bought.end(); ++a) {
    for (auto b = std::next(a); b != bought.end(); ++b) {
      int shared = 0;
      for (uint32_t d : a->second) shared += b->second.count(d);
      const size_t smaller = std::min(a->second.size(), b->second.size());
      if (shared >= min_shared && shared * 2 >= static_cast<int>(smaller)) {
        out.emplace_back(a->first, b->first);
      }
    }
  }
  return out;
}

}  // namespace

StatusOr<IndexBuildSummary> BuildStoreSearchIndex(store::Snapshot& snap,
                                                  const std::string& data_dir,
                                                  const StoreSearchConfig& config,
                                                  const ProgressOptions* progress) {
  const auto t0 = std::chrono::steady_clock::now();
  IndexBuildSummary sum;
  sum.watermark = snap.watermark();
  const fs::path root(data_dir);
  const fs::path index_dir = root / "index";
  const fs::path lexical_tmp = index_dir / "lexical.building";
  std::error_code ec;
  fs::remove_all(lexical_tmp, ec);
  fs::create_directories(index_dir, ec);
  if (ec) {
    return UnavailableError(fmt::format("cannot create {}: {}", index_dir.string(), ec.message()));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<text::Analyzer> analyzer, MakeAnalyzer(config.build.lexical));
  SearchCatalog catalog(analyzer.get());
  RETURN_IF_ERROR(AddItems(snap, catalog, nullptr));
  RETURN_IF_ERROR(AddEvents(snap, catalog, nullptr));
  catalog.Finish();
  sum.items = catalog.size();
  if (catalog.size() == 0) {
    return FailedPreconditionError("the store has no items to index; import a catalog first");
  }
  index::LexicalIndexOptions lo = config.build.lexical;
  lo.numeric_attributes = NumericKeys(catalog);
  std::shared_ptr<index::LexicalIndex> lexical;
  {
    ASSIGN_OR_RETURN(std::unique_ptr<index::LexicalIndex> lex,
                     index::LexicalIndex::Open(lexical_tmp.string(), lo));
    lexical = std::move(lex);
  }
  // A supplied encoder (BERT) is loaded before any indexing, so a missing
  // model fails fast.
  BuildOptions build = config.build;
  std::shared_ptr<const lm::Encoder> supplied;
  double load_s = 0;
  if (build.dense) {
    const auto tl = std::chrono::steady_clock::now();
    if (config.load_encoder) {
      ASSIGN_OR_RETURN(supplied, config.load_encoder(data_dir));
    }
    if (config.open_embedding_cache) {
      ASSIGN_OR_RETURN(build.embed_cache, config.open_embedding_cache(data_dir));
    }
    load_s = Since(tl);
  }
  ASSIGN_OR_RETURN(BuiltParts built, BuildSearchParts(lexical, catalog, supplied, build, progress));
  sum.lexical_s = built.lexical_seconds;
  sum.encoder_s = built.encoder_seconds + load_s;
  sum.embed_s = built.embed_seconds;
  sum.encoder_trained = built.encoder != nullptr && supplied == nullptr;
  sum.embedded = built.embedded;
  sum.embedded_from_cache = built.from_cache;

  // Successful past queries feed the spelling dictionary; synonyms come from
  // configuration and from the log.
  ASSIGN_OR_RETURN(std::vector<LoggedSearch> log, ReadSearchLog(snap, catalog));
  std::map<std::string, uint32_t> successful;
  for (const LoggedSearch& s : log) {
    bool engaged = false;
    for (const LoggedResult& r : s.shown) engaged = engaged || r.label >= 1;
    if (engaged) ++successful[catalog.Fold(s.query)];
  }
  for (const auto& [q, n] : successful) RETURN_IF_ERROR(lexical->AddSpellingSource(q, n));
  sum.spelling_queries = successful.size();
  for (const std::string& rule : config.synonyms) {
    const size_t eq = rule.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 >= rule.size()) {
      return InvalidArgumentError(
          fmt::format("search.synonyms: '{}' is not of the form word=synonym", rule));
    }
    RETURN_IF_ERROR(lexical->AddSynonym(rule.substr(0, eq), rule.substr(eq + 1)));
    RETURN_IF_ERROR(lexical->AddSynonym(rule.substr(eq + 1), rule.substr(0, eq)));
    sum.synonyms += 2;
  }
  if (config.mine_synonyms) {
    for (const auto& [a, b] : MineSynonyms(log, catalog, config.mine_min_shared)) {
      if (lexical->AddSynonym(a, b).ok()) ++sum.synonyms;
      if (lexical->AddSynonym(b, a).ok()) ++sum.synonyms;
    }
  }
  RETURN_IF_ERROR(lexical->Commit());
  lexical.reset();  // closes the database before it is moved into place

  // Encoder and vectors.
  std::string encoder_dir, vector_dir;
  if (built.encoder) {
    sum.encoder = built.encoder->Name() + "-" + built.encoder->Version();
    encoder_dir = "models/encoder/" + sum.encoder;
    vector_dir = "index/vector/" + sum.encoder;
    // Folders are named by content hash: an existing complete one is kept
    // (no second copy of a large model); a new one is written aside and renamed.
    const fs::path final_dir = root / encoder_dir;
    if (!fs::exists(final_dir / "manifest.json", ec)) {
      const fs::path tmp = final_dir.string() + ".saving";
      fs::remove_all(tmp, ec);
      fs::remove_all(final_dir, ec);
      RETURN_IF_ERROR(built.encoder->Save(tmp.string()));
      fs::rename(tmp, final_dir, ec);
      if (ec) {
        return UnavailableError(fmt::format("cannot move {} into place: {}", tmp.string(), ec.message()));
      }
    }
    RETURN_IF_ERROR(built.vectors->Save((root / vector_dir).string()));
  }
  // Doc order, then the lexical index swap, then the manifest (the commit point).
  std::string docs;
  for (uint32_t d = 0; d < catalog.size(); ++d) docs += catalog.doc(d).external_id + "\n";
  RETURN_IF_ERROR(WriteFileAtomically(index_dir / "docs.txt", docs));
  const fs::path lexical_dir = index_dir / "lexical";
  const fs::path old_dir = index_dir / "lexical.old";
  fs::remove_all(old_dir, ec);
  if (fs::exists(lexical_dir)) fs::rename(lexical_dir, old_dir, ec);
  fs::rename(lexical_tmp, lexical_dir, ec);
  if (ec) return UnavailableError(fmt::format("cannot move the new lexical index into place: {}", ec.message()));
  fs::remove_all(old_dir, ec);
  sum.total_s = Since(t0);
  nlohmann::json manifest = {{"format_version", kManifestVersion},
                             {"watermark", sum.watermark},
                             {"items", sum.items},
                             {"lexical", "index/lexical"},
                             {"docs", "index/docs.txt"},
                             {"encoder", encoder_dir},
                             {"vectors", vector_dir},
                             {"stem_language", lo.stem_language},
                             {"build", sum.ToJson()}};
  RETURN_IF_ERROR(WriteFileAtomically(index_dir / "search.json", manifest.dump(2) + "\n"));
  return sum;
}

StatusOr<std::unique_ptr<StoreSearch>> OpenStoreSearch(store::Snapshot& snap,
                                                       const std::string& data_dir,
                                                       const StoreSearchConfig& config,
                                                       const ProgressOptions* progress,
                                                       bool load_ranker) {
  const fs::path root(data_dir);
  const fs::path manifest_path = root / "index" / "search.json";
  std::ifstream mf(manifest_path);
  if (!mf) {
    return FailedPreconditionError(fmt::format(
        "no search index in {} (run `souk index --data-dir {}` first)", data_dir, data_dir));
  }
  auto out = std::make_unique<StoreSearch>();
  out->manifest = nlohmann::json::parse(mf, nullptr, false);
  if (!out->manifest.is_object() || out->manifest.value("format_version", 0) != kManifestVersion) {
    return DataLossError(fmt::format("{}: damaged or unsupported manifest", manifest_path.string()));
  }
  std::vector<std::string> order;
  {
    std::ifstream df(root / "index" / "docs.txt");
    if (!df) return DataLossError(fmt::format("{}: missing", (root / "index" / "docs.txt").string()));
    for (std::string line; std::getline(df, line);) order.push_back(line);
  }
  index::LexicalIndexOptions lo = config.build.lexical;
  lo.stem_language = out->manifest.value("stem_language", lo.stem_language);
  // Numeric keys are recorded in the database; read them back by opening once
  // with none and retrying with the recorded ones is not possible, so the
  // catalog's keys (same items) are used.
  ASSIGN_OR_RETURN(std::unique_ptr<text::Analyzer> analyzer, MakeAnalyzer(lo));
  auto catalog = std::make_shared<SearchCatalog>(analyzer.get());
  RETURN_IF_ERROR(AddItems(snap, *catalog, &order));
  auto profiles = std::make_shared<UserProfiles>(catalog.get(), config.profiles);
  RETURN_IF_ERROR(AddEvents(snap, *catalog, profiles.get()));
  catalog->Finish();
  profiles->Finish();
  out->unindexed_items = catalog->size() - std::min(catalog->size(), order.size());
  lo.numeric_attributes.clear();
  {
    std::set<std::string> keys;
    for (uint32_t d = 0; d < order.size() && d < catalog->size(); ++d) {
      for (const auto& [k, v] : catalog->doc(d).numeric) keys.insert(k);
    }
    lo.numeric_attributes.assign(keys.begin(), keys.end());
  }
  ASSIGN_OR_RETURN(std::unique_ptr<index::LexicalIndex> lexical,
                   index::LexicalIndex::Open((root / "index" / "lexical").string(), lo));
  SearchEngine::Parts parts;
  parts.catalog = catalog;
  out->lexical = std::shared_ptr<index::LexicalIndex>(std::move(lexical));
  out->indexed_docs = std::min(catalog->size(), order.size());
  parts.lexical = out->lexical;
  parts.profiles = profiles;
  const std::string enc = out->manifest.value("encoder", "");
  if (!enc.empty() && config.search.dense) {
    // The encoder the vectors were built with: the configured one when it is
    // the same (its options, e.g. threads, apply), else the index's copy.
    std::string built_with = fs::path(enc).filename().string();
    if (out->manifest.contains("build") && out->manifest["build"].is_object()) {
      built_with = out->manifest["build"].value("encoder", built_with);
    }
    if (config.load_encoder) {
      ASSIGN_OR_RETURN(std::shared_ptr<const lm::Encoder> configured, config.load_encoder(data_dir));
      if (configured && configured->Name() + "-" + configured->Version() == built_with) {
        parts.encoder = std::move(configured);
      } else if (configured) {
        spdlog::warn(
            "the search index was built with encoder {} but the configured one is {}-{}; "
            "searching with the index's own copy (run `souk index` to switch)",
            built_with, configured->Name(), configured->Version());
      }
    }
    if (!parts.encoder) {
      lm::EncoderRegistry builtin;
      const lm::EncoderRegistry* reg = config.encoders.get();
      if (reg == nullptr) {
        RETURN_IF_ERROR(lm::RegisterBuiltinEncoders(builtin));
        reg = &builtin;
      }
      ASSIGN_OR_RETURN(std::unique_ptr<lm::Encoder> encoder, reg->Load((root / enc).string()));
      parts.encoder = std::move(encoder);
    }
    out->encoder = parts.encoder->Name() + "-" + parts.encoder->Version();
    ASSIGN_OR_RETURN(std::unique_ptr<index::VectorIndex> vi,
                     index::VectorIndex::Load((root / out->manifest.value("vectors", "")).string()));
    parts.vectors = std::move(vi);
  }
  ASSIGN_OR_RETURN(std::vector<LoggedSearch> log, ReadSearchLog(snap, *catalog));
  out->classifier = TrainClassifier(log, *catalog);
  parts.classifier = out->classifier;
  if (load_ranker) {
    const std::string version = ReadCurrent(root / "models" / "ltr");
    if (!version.empty()) {
      ASSIGN_OR_RETURN(std::unique_ptr<rank::GbdtModel> model,
                       rank::GbdtModel::Load((root / "models" / "ltr" / version).string()));
      if (model->feature_names() == FeatureNames()) {
        parts.ranker = std::move(model);
        out->ranker_version = version;
      } else {
        spdlog::warn("ranker {} was trained with other features; retrain it (souk train ranker)",
                     version);
      }
    }
  }
  out->catalog = catalog;
  out->profiles = profiles;
  ASSIGN_OR_RETURN(out->engine, SearchEngine::Create(std::move(parts), config.search));
  // The analyzer must live as long as the catalog: hand it to the catalog's owner.
  out->analyzer = std::move(analyzer);
  (void)progress;
  return out;
}

StatusOr<RankerTrainingResult> TrainRankerFromLog(const SearchEngine& engine,
                                                  const std::vector<LoggedSearch>& log_in,
                                                  const StoreSearchConfig& config,
                                                  const ProgressOptions* progress) {
  RankerTrainingResult res;
  std::vector<const LoggedSearch*> log;
  for (const LoggedSearch& s : log_in) {
    bool engaged = false;
    for (const LoggedResult& r : s.shown) engaged = engaged || r.label >= 1;
    if (engaged && s.shown.size() >= 2) log.push_back(&s);
  }
  if (log.size() < 20) {
    return FailedPreconditionError(fmt::format(
        "only {} logged searches with a click: too few to train a ranker", log.size()));
  }
  std::stable_sort(log.begin(), log.end(), [](const LoggedSearch* a, const LoggedSearch* b) {
    return a->timestamp_ms < b->timestamp_ms;
  });
  const size_t n_hold = static_cast<size_t>(std::floor(log.size() * config.holdout_fraction));
  const size_t n_train = log.size() - n_hold;
  res.propensity = EstimatePropensity(log_in);
  auto prop = [&](int pos) {
    if (pos < 1) return 1.0;
    return res.propensity[std::min<size_t>(pos, res.propensity.size()) - 1];
  };

  rank::TrainingSet train, valid;
  train.feature_names = valid.feature_names = FeatureNames();
  std::unique_ptr<Progress> bar;
  if (progress) bar = std::make_unique<Progress>("ranker features", n_train, *progress);
  for (size_t i = 0; i < n_train; ++i) {
    const LoggedSearch& s = *log[i];
    const ParsedQuery q = engine.Understand(s.query);
    std::vector<Candidate> cands;
    std::vector<int> labels;
    double weight = 1.0;
    int best = 0;
    std::unordered_set<uint32_t> shown;
    // The engine's own retrieval for the query: shown items carry the same
    // retrieval features (ranks, fused score) they would have at serving time.
    SearchEngine::RetrieveOptions ro;
    ASSIGN_OR_RETURN(std::vector<Candidate> retrieved, engine.Retrieve(q, ro));
    std::unordered_map<uint32_t, size_t> retrieved_at;
    for (size_t k = 0; k < retrieved.size(); ++k) retrieved_at.emplace(retrieved[k].doc, k);
    for (const LoggedResult& r : s.shown) {
      Candidate c;
      c.doc = r.doc;
      if (auto it = retrieved_at.find(r.doc); it != retrieved_at.end()) c = retrieved[it->second];
      cands.push_back(std::move(c));
      labels.push_back(r.label);
      shown.insert(r.doc);
      if (r.label > best) {
        best = r.label;
        weight = 1.0 / prop(r.position);
      }
    }
    // What the logged lists never contained: dense-only candidates the engine
    // itself retrieves for the query (spread over its top 100) join the group
    // as label 0, so the ranker learns to push down retrieval noise (a dense
    // hit of another category) that no logged list could show it.
    if (config.retrieved_negatives > 0) {
      const size_t pool = std::min<size_t>(retrieved.size(), 100);
      const size_t stride = std::max<size_t>(1, pool / config.retrieved_negatives);
      for (size_t k = 0; k < pool; k += stride) {
        // Only dense-only hits (no query word matched): unshown lexical hits
        // are often relevant items of the same kind, not noise.
        if (shown.count(retrieved[k].doc) || retrieved[k].lexical_rank) continue;
        cands.push_back(retrieved[k]);
        labels.push_back(0);
      }
    }
    RETURN_IF_ERROR(engine.Featurize(q, cands, &s.user));
    rank::TrainingSet& set = (i % 10 == 9) ? valid : train;
    for (size_t k = 0; k < cands.size(); ++k) {
      set.AddRow(cands[k].features, static_cast<float>(labels[k]), static_cast<float>(weight));
    }
    set.groups.push_back(static_cast<uint32_t>(cands.size()));
    if (bar) bar->Add(1);
  }
  if (bar) bar->Finish();
  res.train_searches = n_train;
  res.holdout_searches = n_hold;
  ProgressOptions po = progress ? *progress : ProgressOptions{};
  if (!progress) po.mode = ProgressMode::kOff;
  ASSIGN_OR_RETURN(res.model, rank::GbdtModel::Train(train, &valid, config.ranker, &po));

  // Held-out evaluation inside the engine's own retrieval.
  double mrr_f = 0, mrr_l = 0, ndcg_f = 0, ndcg_l = 0;
  size_t n = 0;
  for (size_t i = n_train; i < log.size(); ++i) {
    const LoggedSearch& s = *log[i];
    std::unordered_map<int64_t, double> judged;
    std::unordered_set<int64_t> engaged;
    for (const LoggedResult& r : s.shown) {
      if (r.label >= 1) {
        judged[r.doc] = r.label;
        engaged.insert(r.doc);
      }
    }
    const ParsedQuery q = engine.Understand(s.query);
    ASSIGN_OR_RETURN(std::vector<Candidate> cands, engine.Retrieve(q, SearchEngine::RetrieveOptions{}));
    if (cands.size() > engine.options().rerank_depth) cands.resize(engine.options().rerank_depth);
    auto ids = [&](const std::vector<Candidate>& c) {
      std::vector<int64_t> v;
      for (size_t k = 0; k < c.size() && k < 100; ++k) v.push_back(c[k].doc);
      return v;
    };
    const std::vector<int64_t> fused = ids(cands);
    RETURN_IF_ERROR(engine.Featurize(q, cands, &s.user));
    engine.Rank(cands, res.model.get());
    const std::vector<int64_t> ranked = ids(cands);
    auto gain = [](double r) { return std::pow(2.0, r) - 1; };
    mrr_f += eval::ReciprocalRank(fused, engaged, 10).value_or(0);
    mrr_l += eval::ReciprocalRank(ranked, engaged, 10).value_or(0);
    ndcg_f += eval::NdcgAtKFromLabels(fused, judged, 10, gain).value_or(0);
    ndcg_l += eval::NdcgAtKFromLabels(ranked, judged, 10, gain).value_or(0);
    ++n;
  }
  if (n > 0) {
    res.metrics = {{"holdout_searches", n},
                   {"fusion", {{"mrr@10", mrr_f / n}, {"ndcg@10", ndcg_f / n}}},
                   {"ltr", {{"mrr@10", mrr_l / n}, {"ndcg@10", ndcg_l / n}}}};
  }
  res.metrics["propensity"] = res.propensity;
  res.metrics["train_searches"] = n_train;
  return res;
}

StatusOr<std::string> SaveRanker(const rank::GbdtModel& model, const std::string& data_dir,
                                 const nlohmann::json& extra) {
  const fs::path dir = fs::path(data_dir) / "models" / "ltr";
  const std::string version = NewModelVersion(dir.string());
  RETURN_IF_ERROR(model.Save((dir / version).string(), extra));
  RETURN_IF_ERROR(WriteFileAtomically(dir / "CURRENT", version + "\n"));
  return version;
}

std::string NewModelVersion(const std::string& models_dir, const std::vector<std::string>& suffixes) {
  const fs::path dir(models_dir);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::string base = fmt::format("{}", std::chrono::duration_cast<std::chrono::seconds>(now).count());
  auto taken = [&](const std::string& v) {
    std::error_code ec;
    if (fs::exists(dir / v, ec)) return true;
    for (const std::string& s : suffixes) {
      if (fs::exists(dir / (v + s), ec)) return true;
    }
    return false;
  };
  std::string version = base;
  for (int k = 2; taken(version); ++k) version = fmt::format("{}-{}", base, k);
  return version;
}

StatusOr<EncoderTrainingData> MineEncoderTrainingData(store::Snapshot& snap,
                                                      const StoreSearchConfig& config,
                                                      const EncoderPairOptions& options) {
  EncoderTrainingData data;
  ASSIGN_OR_RETURN(std::unique_ptr<text::Analyzer> analyzer, MakeAnalyzer(config.build.lexical));
  SearchCatalog catalog(analyzer.get());
  RETURN_IF_ERROR(AddItems(snap, catalog, nullptr));
  catalog.Finish();
  if (catalog.size() == 0) {
    return FailedPreconditionError("the store has no items to train an encoder on; import a catalog first");
  }
  data.corpus.reserve(catalog.size());
  for (uint32_t d = 0; d < catalog.size(); ++d) data.corpus.push_back(DocumentText(catalog.doc(d)));

  // (query -> engaged item), each distinct pair once.
  ASSIGN_OR_RETURN(std::vector<LoggedSearch> log, ReadSearchLog(snap, catalog));
  data.searches = log.size();
  std::set<std::pair<std::string, uint32_t>> seen_query;
  for (const LoggedSearch& s : log) {
    for (const LoggedResult& r : s.shown) {
      if (data.pairs.size() >= options.max_pairs) break;
      if (r.label < options.min_label) continue;
      if (!seen_query.emplace(catalog.Fold(s.query), r.doc).second) continue;
      data.pairs.push_back({s.query, data.corpus[r.doc]});
      ++data.query_pairs;
    }
  }

  // (item -> next distinct item) within a session, each ordered pair once.
  std::unordered_map<int64_t, uint32_t> item_doc;
  RETURN_IF_ERROR(snap.ForEachItem([&](const store::StoredItem& it) {
    if (auto d = catalog.Find(it.item.external_id)) item_doc[it.id] = *d;
    return true;
  }));
  struct SessionState {
    uint32_t last = UINT32_MAX;
    size_t pairs = 0;
  };
  std::unordered_map<std::string, SessionState> sessions;
  std::unordered_set<uint64_t> seen_items;
  RETURN_IF_ERROR(snap.ForEachEvent([&](const store::StoredEvent& e) {
    if (data.pairs.size() >= options.max_pairs) return false;
    if (e.session.empty()) return true;
    if (e.type != store::EventType::kView && e.type != store::EventType::kAddToCart &&
        e.type != store::EventType::kPurchase) {
      return true;
    }
    auto it = item_doc.find(e.item);
    if (it == item_doc.end()) return true;
    const uint32_t doc = it->second;
    SessionState& st = sessions[e.session];
    if (st.last != UINT32_MAX && st.last != doc && st.pairs < options.max_pairs_per_session &&
        data.corpus[st.last] != data.corpus[doc] &&
        seen_items.insert((uint64_t{st.last} << 32) | doc).second) {
      data.pairs.push_back({data.corpus[st.last], data.corpus[doc]});
      ++data.item_pairs;
      ++st.pairs;
    }
    st.last = doc;
    return true;
  }));
  data.sessions = sessions.size();
  return data;
}

}  // namespace souk::search
