#include "eval/search_protocol.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <unordered_map>
#include <unordered_set>
#include <filesystem>
#include <unistd.h>

#include "eval/metrics.h"
#include "eval/splits.h"
#include "lm/bert_encoder.h"
#include "lm/bert_trainer.h"
#include "ingest/csv_reader.h"
#include "rank/gbdt_model.h"
#include "search/builder.h"
#include "search/engine.h"

namespace souk::eval {
namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

constexpr double kRecallThreshold = 2.33;
constexpr int kFullDepth = 100;

struct Judgments {
  std::vector<std::string> queries;  // distinct, in first-seen order
  std::unordered_map<std::string, std::vector<std::pair<uint32_t, double>>> judged;
  size_t rows = 0, unknown_products = 0;
};

StatusOr<std::shared_ptr<search::SearchCatalog>> ReadProducts(const std::string& path,
                                                              const text::Analyzer* analyzer) {
  ASSIGN_OR_RETURN(auto reader, ingest::CsvReader::Open(path));
  const int id_col = reader->Column("product_uid"), title_col = reader->Column("title");
  if (id_col < 0 || title_col < 0) {
    return InvalidArgumentError(
        fmt::format("--products {}: needs columns product_uid and title", path));
  }
  auto catalog = std::make_shared<search::SearchCatalog>(analyzer);
  ingest::CsvRecord rec;
  while (reader->Next(&rec)) {
    if (rec.error != ingest::RecordError::kNone) {
      return DataLossError(fmt::format("{}:{}: {}", path, rec.line, rec.error_detail));
    }
    if (catalog->Find(rec.fields[id_col])) {
      return DataLossError(
          fmt::format("{}:{}: duplicate product_uid {}", path, rec.line, rec.fields[id_col]));
    }
    search::CatalogDoc d;
    d.external_id = std::string(rec.fields[id_col]);
    d.title = std::string(rec.fields[title_col]);
    catalog->Add(std::move(d));
  }
  RETURN_IF_ERROR(reader->status());
  catalog->Finish();
  return catalog;
}

StatusOr<Judgments> ReadJudgments(const std::string& flag, const std::string& path,
                                  const search::SearchCatalog& catalog) {
  ASSIGN_OR_RETURN(auto reader, ingest::CsvReader::Open(path));
  const int q_col = reader->Column("query"), id_col = reader->Column("product_uid"),
            r_col = reader->Column("relevance");
  if (q_col < 0 || id_col < 0 || r_col < 0) {
    return InvalidArgumentError(
        fmt::format("{} {}: needs columns query, product_uid, relevance", flag, path));
  }
  Judgments j;
  ingest::CsvRecord rec;
  while (reader->Next(&rec)) {
    if (rec.error != ingest::RecordError::kNone) {
      return DataLossError(fmt::format("{}:{}: {}", path, rec.line, rec.error_detail));
    }
    const std::string rel_text(rec.fields[r_col]);
    char* end = nullptr;
    const double rel = std::strtod(rel_text.c_str(), &end);
    if (rel_text.empty() || *end != '\0' || !(rel >= 1 && rel <= 3)) {
      return DataLossError(fmt::format("{}:{}: relevance '{}' is not a number in [1, 3]", path,
                                       rec.line, rel_text));
    }
    ++j.rows;
    const std::optional<uint32_t> doc = catalog.Find(rec.fields[id_col]);
    if (!doc) {
      ++j.unknown_products;
      continue;
    }
    std::string q(rec.fields[q_col]);
    auto [it, inserted] = j.judged.try_emplace(q);
    if (inserted) j.queries.push_back(q);
    it->second.emplace_back(*doc, rel);
  }
  RETURN_IF_ERROR(reader->status());
  return j;
}

// Everything one query contributes, computed once.
struct QueryData {
  std::string query;
  std::unordered_map<int64_t, double> judged;  // doc -> relevance
  std::vector<uint32_t> docs;                  // candidates (fused order), then judged extras
  size_t n_retrieved = 0;
  std::vector<float> x;                        // docs.size() * F
  std::vector<float> fused;                    // per doc (0 for extras)
  std::vector<int64_t> bm25, bm25_qu, dense, hybrid;  // top-100 rankings of the ablations
};

struct Accumulator {
  double ndcg = 0, recall = 0, rerank = 0;
  size_t n_ndcg = 0, n_recall = 0, n_rerank = 0;
  void AddFull(const std::vector<int64_t>& ranked, const QueryData& q) {
    if (auto v = NdcgAtKFromLabels(ranked, q.judged, 10, ExponentialGainMinusOne)) {
      ndcg += *v;
      ++n_ndcg;
    }
    std::unordered_set<int64_t> relevant;
    for (const auto& [d, r] : q.judged) {
      if (r >= kRecallThreshold) relevant.insert(d);
    }
    if (auto v = RecallAtK(ranked, relevant, kFullDepth)) {
      recall += *v;
      ++n_recall;
    }
  }
  void AddRerank(const std::vector<int64_t>& ranked, const QueryData& q) {
    if (auto v = NdcgAtKFromLabels(ranked, q.judged, 10, ExponentialGainMinusOne)) {
      rerank += *v;
      ++n_rerank;
    }
  }
  std::map<std::string, double> Metrics(bool with_rerank) const {
    std::map<std::string, double> m;
    m["full_ndcg@10"] = n_ndcg ? ndcg / n_ndcg : std::nan("");
    m["full_recall@100"] = n_recall ? recall / n_recall : std::nan("");
    if (with_rerank) m["rerank_ndcg@10"] = n_rerank ? rerank / n_rerank : std::nan("");
    m["n_queries_ndcg"] = static_cast<double>(n_ndcg);
    m["n_queries_recall"] = static_cast<double>(n_recall);
    return m;
  }
};

std::vector<int64_t> TopDocs(const std::vector<search::Candidate>& c, size_t k) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < c.size() && i < k; ++i) out.push_back(c[i].doc);
  return out;
}

StatusOr<QueryData> Prepare(const search::SearchEngine& engine, const std::string& query,
                            const std::vector<std::pair<uint32_t, double>>& judged,
                            size_t depth) {
  QueryData qd;
  qd.query = query;
  for (const auto& [d, r] : judged) qd.judged[d] = r;
  using RO = search::SearchEngine::RetrieveOptions;
  const search::ParsedQuery basic = engine.Understand(query, /*full=*/false);
  const search::ParsedQuery full = engine.Understand(query, /*full=*/true);
  {
    RO o;
    o.dense = false;
    ASSIGN_OR_RETURN(auto c, engine.Retrieve(basic, o));
    qd.bm25 = TopDocs(c, kFullDepth);
    ASSIGN_OR_RETURN(c, engine.Retrieve(full, o));
    qd.bm25_qu = TopDocs(c, kFullDepth);
  }
  if (engine.has_dense()) {
    RO o;
    o.lexical = false;
    ASSIGN_OR_RETURN(auto c, engine.Retrieve(full, o));
    qd.dense = TopDocs(c, kFullDepth);
  }
  ASSIGN_OR_RETURN(std::vector<search::Candidate> cands, engine.Retrieve(full, RO{}));
  qd.hybrid = TopDocs(cands, kFullDepth);
  if (cands.size() > depth) cands.resize(depth);
  qd.n_retrieved = cands.size();
  std::unordered_set<uint32_t> have;
  for (const auto& c : cands) have.insert(c.doc);
  for (const auto& [d, r] : judged) {
    if (have.insert(d).second) {
      search::Candidate c;
      c.doc = d;
      cands.push_back(std::move(c));
    }
  }
  RETURN_IF_ERROR(engine.Featurize(full, cands));
  for (const auto& c : cands) {
    qd.docs.push_back(c.doc);
    qd.fused.push_back(static_cast<float>(c.fused));
    qd.x.insert(qd.x.end(), c.features.begin(), c.features.end());
  }
  return qd;
}

// Item priors learned from the training judgments, the Home Depot stand-in
// for behavior statistics (how often search surfaced a product and how relevant
// it was found): they fill the engine's popularity / ctr / conversion features.
// Out-of-fold: the training rows of a query get priors computed from the other
// inner folds of the training queries (never from the query itself), the scored
// queries from all training queries; counts are per 1,000 queries so both
// scales agree.
struct ItemPriors {
  std::unordered_map<int64_t, std::array<double, 3>> stats;  // count, sum(r-1), count(r>=2.33)
  double mean = 0.5;                                         // mean of r-1 over all pairs
  double queries = 0;
  void Add(const QueryData& q) {
    queries += 1;
    for (const auto& [d, r] : q.judged) {
      auto& s = stats[d];
      s[0] += 1;
      s[1] += r - 1;
      s[2] += r >= kRecallThreshold ? 1 : 0;
    }
  }
  void Finish() {
    double n = 0, sum = 0;
    for (const auto& [d, s] : stats) {
      n += s[0];
      sum += s[1];
    }
    mean = n > 0 ? sum / n : 0.5;
  }
  // Writes the priors of doc `d` into `row`.
  void Fill(int64_t d, float* row) const {
    static const size_t kPop = FeatureIndex("popularity"), kCtr = FeatureIndex("ctr"),
                        kConv = FeatureIndex("conversion");
    double n = 0, sum = 0, good = 0;
    if (auto it = stats.find(d); it != stats.end()) {
      n = it->second[0];
      sum = it->second[1];
      good = it->second[2];
    }
    constexpr double kStrength = 3;
    row[kPop] = static_cast<float>(std::log1p(1000.0 * n / std::max(1.0, queries)));
    row[kCtr] = static_cast<float>((sum + kStrength * mean) / (n + kStrength));
    row[kConv] = static_cast<float>((good + kStrength * 0.5) / (n + kStrength));
  }
  static size_t FeatureIndex(const std::string& name) {
    const auto& names = search::FeatureNames();
    return static_cast<size_t>(std::find(names.begin(), names.end(), name) - names.begin());
  }
};

constexpr int kInnerFolds = 4;
int InnerFold(const std::string& query) { return static_cast<int>((Fnv1a64(query) / 13) % kInnerFolds); }

// Training rows of a set of queries. Ranking groups look like what the ranker
// will see: the retrieved candidates only (judged ones with their grade,
// unjudged ones 0), the unjudged thinned to about `negatives` spread evenly
// over the whole fused list (taking only the best ones would teach "a low
// fusion score means relevant"). Regression rows: every judged product.
void AddTrainingRows(const QueryData& q, const ItemPriors& priors, size_t negatives,
                     rank::TrainingSet* ranking, rank::TrainingSet* regression) {
  const size_t f = search::FeatureNames().size();
  size_t n_unjudged = 0;
  for (size_t i = 0; i < q.n_retrieved; ++i) n_unjudged += q.judged.count(q.docs[i]) == 0;
  const size_t stride = negatives == 0 ? 0 : std::max<size_t>(1, (n_unjudged + negatives - 1) / negatives);
  uint32_t group = 0;
  size_t unjudged = 0;
  std::vector<float> row(f);
  for (size_t i = 0; i < q.docs.size(); ++i) {
    auto it = q.judged.find(q.docs[i]);
    const bool judged = it != q.judged.end();
    const bool retrieved = i < q.n_retrieved;
    bool to_ranker = retrieved;
    if (retrieved && !judged) to_ranker = stride > 0 && (unjudged++ % stride) == 0;
    if (!to_ranker && !judged) continue;
    std::copy(q.x.begin() + i * f, q.x.begin() + (i + 1) * f, row.begin());
    priors.Fill(q.docs[i], row.data());
    if (to_ranker) {
      ranking->AddRow(row, judged ? static_cast<float>(it->second - 1.0) : 0.0f);
      ++group;
    }
    if (judged) regression->AddRow(row, static_cast<float>(it->second));
  }
  if (group > 0) ranking->groups.push_back(group);
}

struct Models {
  std::unique_ptr<rank::GbdtModel> ranker, regressor;
  ItemPriors priors;
};

StatusOr<Models> TrainModels(const std::vector<const QueryData*>& train,
                             const SearchProtocolOptions& o, const ProgressOptions& progress,
                             const std::string& label) {
  rank::TrainingSet tr_rank, va_rank, tr_reg, va_reg;
  for (auto* s : {&tr_rank, &va_rank, &tr_reg, &va_reg}) s->feature_names = search::FeatureNames();
  Models m;
  std::vector<ItemPriors> inner(kInnerFolds);
  for (const QueryData* q : train) {
    m.priors.Add(*q);
    const int j = InnerFold(q->query);
    for (int k = 0; k < kInnerFolds; ++k) {
      if (k != j) inner[k].Add(*q);
    }
  }
  m.priors.Finish();
  for (ItemPriors& p : inner) p.Finish();
  for (const QueryData* q : train) {
    // A tenth of the training queries (by a hash independent of the folds)
    // is held out for early stopping.
    const bool valid = (Fnv1a64(q->query) / 7) % 10 == 0;
    AddTrainingRows(*q, inner[InnerFold(q->query)], o.train_negatives,
                    valid ? &va_rank : &tr_rank, valid ? &va_reg : &tr_reg);
  }
  rank::GbdtOptions ro;
  ro.objective = "rank:pairwise";
  ro.rounds = o.ltr_rounds;
  ro.threads = o.threads;
  ro.max_depth = 6;
  ro.eta = 0.1;
  ProgressOptions po = progress;
  spdlog::info("{}: ranker on {} queries ({} rows), regressor on {} judged pairs", label,
               tr_rank.groups.size(), tr_rank.rows(), tr_reg.rows());
  ASSIGN_OR_RETURN(m.ranker, rank::GbdtModel::Train(tr_rank, &va_rank, ro, &po));
  rank::GbdtOptions go = ro;
  go.objective = "reg:squarederror";
  go.max_depth = 5;
  go.eta = 0.05;
  go.min_child_weight = 5;
  ASSIGN_OR_RETURN(m.regressor, rank::GbdtModel::Train(tr_reg, &va_reg, go, &po));
  return m;
}

// Pre-trains (or takes --hd-bert-base) a BERT encoder, fine-tunes it per fold
// on the other folds' (query, judged product >= min relevance) pairs, embeds
// the corpus with each and returns one engine per fold (one in total with
// --train-judgments).
StatusOr<std::vector<std::unique_ptr<search::SearchEngine>>> BuildBertEngines(
    const SearchProtocolOptions& o, const search::SearchCatalog& catalog, const search::SearchEngine::Parts& base_parts,
    const search::SearchOptions& so, const Judgments& eval_j, const Judgments& train_j, const std::vector<int>& fold_of,
    bool cross_fit, const ProgressOptions& progress, nlohmann::json* info) {
  namespace fs = std::filesystem;
  fs::path work = o.bert_work_dir.empty() ? fs::temp_directory_path() / fmt::format("souk-hd-bert-{}", ::getpid())
                                          : fs::path(o.bert_work_dir);
  std::error_code ec;
  fs::create_directories(work, ec);
  if (ec) return UnavailableError("cannot create " + work.string() + ": " + ec.message());
  std::vector<std::string> titles;
  titles.reserve(catalog.size());
  for (uint32_t d = 0; d < catalog.size(); ++d) titles.push_back(search::DocumentText(catalog.doc(d)));
  auto has_model = [&](const fs::path& dir) { return o.bert_reuse && fs::exists(dir / "manifest.json", ec); };

  fs::path base = o.bert_base;
  if (base.empty()) {
    base = work / "pretrain";
    if (!has_model(base)) {
      lm::PretrainOptions po;
      po.hidden_size = o.bert_hidden;
      po.num_layers = o.bert_layers;
      po.num_heads = o.bert_heads;
      po.intermediate_size = o.bert_intermediate;
      po.vocab_size = o.bert_vocab;
      po.epochs = o.bert_pretrain_epochs;
      po.batch_size = o.bert_batch;
      po.learning_rate = o.bert_pretrain_lr;
      po.threads = o.threads;
      ASSIGN_OR_RETURN(lm::TrainReport r, lm::PretrainEncoder(titles, base, po, &progress));
      (*info)["pretrain"] = nlohmann::json::parse(r.ToJson());
      spdlog::info("homedepot: pre-trained BERT in {:.0f}s, {} steps, MLM loss {:.3f}", r.seconds, r.steps,
                   r.final_loss);
    }
  }
  auto pairs_of = [&](const Judgments& j, int skip_fold, bool use_fold) {
    std::vector<lm::TrainPair> pairs;
    for (size_t i = 0; i < j.queries.size(); ++i) {
      if (use_fold && fold_of[i] == skip_fold) continue;
      const std::string& q = j.queries[i];
      for (const auto& [d, r] : j.judged.at(q)) {
        if (r >= o.bert_min_relevance) pairs.push_back({q, titles[d]});
      }
    }
    return pairs;
  };
  const int n_models = cross_fit ? o.folds : 1;
  std::vector<std::unique_ptr<search::SearchEngine>> engines;
  double finetune_s = 0, embed_s = 0;
  for (int k = 0; k < n_models; ++k) {
    const fs::path dir = work / (cross_fit ? fmt::format("fold{}", k) : std::string("train"));
    if (!has_model(dir)) {
      std::vector<lm::TrainPair> pairs = cross_fit ? pairs_of(eval_j, k, true) : pairs_of(train_j, 0, false);
      lm::FinetuneOptions fo;
      fo.epochs = o.bert_finetune_epochs;
      fo.batch_size = o.bert_batch;
      fo.learning_rate = o.bert_finetune_lr;
      fo.lora = o.bert_lora;
      fo.threads = o.threads;
      fo.seed = 11 + k;
      auto t = Clock::now();
      ASSIGN_OR_RETURN(lm::TrainReport r, lm::FinetuneEncoder(base, pairs, titles, dir, fo, &progress));
      finetune_s += Since(t);
      (*info)["finetune"][dir.filename().string()] = nlohmann::json::parse(r.ToJson());
      spdlog::info("homedepot: fine-tuned {} on {} pairs in {:.0f}s, validation MRR@10 {:.3f}", dir.filename().string(),
                   pairs.size(), r.seconds, r.best_validation);
    }
    lm::BertEncoderOptions eo;
    eo.threads = o.threads;
    eo.int8 = o.bert_int8;
    eo.batch_size = 128;
    ASSIGN_OR_RETURN(auto encoder, lm::BertEncoder::Load(dir, eo));
    std::shared_ptr<const lm::Encoder> shared(std::move(encoder));
    auto t = Clock::now();
    search::BuildOptions bo;
    ASSIGN_OR_RETURN(auto vectors, search::EmbedCatalog(catalog, *shared, bo, &progress));
    embed_s += Since(t);
    search::SearchEngine::Parts parts = base_parts;
    parts.encoder = shared;
    parts.vectors = vectors;
    ASSIGN_OR_RETURN(auto engine, search::SearchEngine::Create(parts, so));
    engines.push_back(std::move(engine));
  }
  (*info)["finetune_s"] = finetune_s;
  (*info)["embed_s"] = embed_s;
  (*info)["work_dir"] = work.string();
  return engines;
}

}  // namespace

void HomeDepotSearchProtocol::AddOptions(CLI::App* cmd) {
  cmd->add_option("--hd-max-queries", options_.max_queries,
                  "score only the first N queries of --judgments (0 = all)");
  cmd->add_option("--hd-folds", options_.folds, "cross-fitting folds without --train-judgments");
  cmd->add_option("--hd-dense", options_.dense, "build the dense retriever (true/false)");
  cmd->add_option("--hd-encoder-epochs", options_.encoder_epochs, "sub-word encoder epochs");
  cmd->add_option("--hd-threads", options_.threads, "training threads");
  cmd->add_option("--hd-candidates", options_.candidates, "candidates per query for the ranker");
  cmd->add_option("--hd-ltr-rounds", options_.ltr_rounds, "maximum boosting rounds");
  cmd->add_option("--hd-train-negatives", options_.train_negatives,
                  "unjudged candidates per query in the ranker's training groups");
  cmd->add_option("--hd-encoder", options_.encoder, "dense encoder: subword | bert");
  cmd->add_option("--hd-bert-base", options_.bert_base,
                  "BERT model folder to fine-tune (default: pre-train one on the titles)");
  cmd->add_option("--hd-bert-dir", options_.bert_work_dir, "folder for the BERT models");
  cmd->add_option("--hd-bert-reuse", options_.bert_reuse, "reuse BERT models found in --hd-bert-dir");
  cmd->add_option("--hd-bert-hidden", options_.bert_hidden, "pre-trained BERT hidden size");
  cmd->add_option("--hd-bert-layers", options_.bert_layers, "pre-trained BERT layers");
  cmd->add_option("--hd-bert-heads", options_.bert_heads, "pre-trained BERT attention heads");
  cmd->add_option("--hd-bert-intermediate", options_.bert_intermediate, "pre-trained BERT FFN size");
  cmd->add_option("--hd-bert-vocab", options_.bert_vocab, "WordPiece vocabulary size");
  cmd->add_option("--hd-bert-pretrain-epochs", options_.bert_pretrain_epochs, "MLM epochs");
  cmd->add_option("--hd-bert-finetune-epochs", options_.bert_finetune_epochs, "contrastive epochs");
  cmd->add_option("--hd-bert-batch", options_.bert_batch, "training batch size");
  cmd->add_option("--hd-bert-pretrain-lr", options_.bert_pretrain_lr, "MLM peak learning rate");
  cmd->add_option("--hd-bert-finetune-lr", options_.bert_finetune_lr, "contrastive peak learning rate");
  cmd->add_option("--hd-bert-lora", options_.bert_lora, "fine-tune LoRA adapters only");
  cmd->add_option("--hd-bert-int8", options_.bert_int8, "int8 dynamic quantization at inference");
  cmd->add_option("--hd-bert-min-relevance", options_.bert_min_relevance,
                  "judged products at or above this relevance are fine-tuning positives");
  cmd->add_option("--hd-bm25-k1", options_.bm25_k1, "BM25 k1");
  cmd->add_option("--hd-bm25-b", options_.bm25_b, "BM25 b");
}

StatusOr<EvalReport> HomeDepotSearchProtocol::Run(const EvalContext& ctx) {
  const SearchProtocolOptions& o = options_;
  RETURN_IF_ERROR(RequireInputPath("--products", ctx.inputs.products, Name()));
  RETURN_IF_ERROR(RequireInputPath("--judgments", ctx.inputs.judgments, Name()));
  if (!ctx.inputs.train_judgments.empty()) {
    RETURN_IF_ERROR(RequireInputPath("--train-judgments", ctx.inputs.train_judgments, Name()));
  } else if (o.folds < 2) {
    return InvalidArgumentError("--hd-folds must be at least 2");
  }
  nlohmann::json timing;
  auto t0 = Clock::now();

  // Corpus and indexes.
  index::LexicalIndexOptions lo;
  lo.stem_language = "english";
  lo.bm25_k1 = o.bm25_k1;
  lo.bm25_b = o.bm25_b;
  ASSIGN_OR_RETURN(std::unique_ptr<index::LexicalIndex> lex, index::LexicalIndex::Open("", lo));
  std::shared_ptr<index::LexicalIndex> lexical(std::move(lex));
  ASSIGN_OR_RETURN(std::shared_ptr<search::SearchCatalog> catalog,
                   ReadProducts(ctx.inputs.products, &lexical->analyzer()));
  spdlog::info("homedepot: {} products", catalog->size());
  if (o.encoder != "subword" && o.encoder != "bert") {
    return InvalidArgumentError("--hd-encoder must be subword or bert, got \"" + o.encoder + "\"");
  }
  const bool bert = o.dense && o.encoder == "bert";
  search::BuildOptions bo;
  bo.dense = o.dense && !bert;
  bo.encoder.epochs = o.encoder_epochs;
  bo.encoder.dim = o.encoder_dim;
  bo.encoder.threads = o.threads;
  ASSIGN_OR_RETURN(search::BuiltParts built,
                   search::BuildSearchParts(lexical, *catalog, nullptr, bo, &ctx.progress));
  timing["index_lexical_s"] = built.lexical_seconds;
  timing["train_encoder_s"] = built.encoder_seconds;
  timing["embed_s"] = built.embed_seconds;

  search::SearchEngine::Parts parts;
  parts.catalog = catalog;
  parts.lexical = built.lexical;
  parts.encoder = built.encoder;
  parts.vectors = built.vectors;
  search::SearchOptions so;
  so.lexical_candidates = 300;
  so.dense_candidates = 200;
  ASSIGN_OR_RETURN(std::unique_ptr<search::SearchEngine> engine,
                   search::SearchEngine::Create(parts, so));
  nlohmann::json bert_info;

  // Queries.
  ASSIGN_OR_RETURN(Judgments eval_j, ReadJudgments("--judgments", ctx.inputs.judgments, *catalog));
  if (o.max_queries > 0 && eval_j.queries.size() > o.max_queries) {
    eval_j.queries.resize(o.max_queries);
  }
  Judgments train_j;
  const bool cross_fit = ctx.inputs.train_judgments.empty();
  if (!cross_fit) {
    ASSIGN_OR_RETURN(train_j, ReadJudgments("--train-judgments", ctx.inputs.train_judgments,
                                            *catalog));
  }
  auto t1 = Clock::now();
  std::vector<int> fold_of(eval_j.queries.size(), 0);
  if (cross_fit) {
    for (size_t i = 0; i < eval_j.queries.size(); ++i) fold_of[i] = FoldOfQuery(eval_j.queries[i], o.folds);
  }
  // With a BERT encoder: one fine-tuned encoder (and engine) per fold, or one
  // on --train-judgments; queries are prepared with their own fold's engine.
  std::vector<std::unique_ptr<search::SearchEngine>> bert_engines;
  if (bert) {
    ASSIGN_OR_RETURN(bert_engines, BuildBertEngines(o, *catalog, parts, so, eval_j, train_j, fold_of, cross_fit,
                                                   ctx.progress, &bert_info));
    timing["bert"] = bert_info;
  }
  auto engine_for = [&](size_t eval_index) -> const search::SearchEngine& {
    if (!bert) return *engine;
    return *bert_engines[cross_fit ? fold_of[eval_index] : 0];
  };
  std::vector<QueryData> eval_q, train_q;
  {
    Progress bar("prepare queries", eval_j.queries.size() + train_j.queries.size(), ctx.progress);
    for (size_t i = 0; i < eval_j.queries.size(); ++i) {
      const std::string& q = eval_j.queries[i];
      ASSIGN_OR_RETURN(QueryData qd, Prepare(engine_for(i), q, eval_j.judged.at(q), o.candidates));
      eval_q.push_back(std::move(qd));
      bar.Add(1);
    }
    for (const std::string& q : train_j.queries) {
      ASSIGN_OR_RETURN(QueryData qd, Prepare(bert ? *bert_engines[0] : *engine, q, train_j.judged.at(q),
                                             o.candidates));
      train_q.push_back(std::move(qd));
      bar.Add(1);
    }
  }
  timing["prepare_queries_s"] = Since(t1);

  // Learned parts: one model pair on --train-judgments, or one per fold.
  t1 = Clock::now();
  std::vector<Models> models;
  if (cross_fit) {
    for (int k = 0; k < o.folds; ++k) {
      std::vector<const QueryData*> train;
      for (size_t i = 0; i < eval_q.size(); ++i) {
        if (fold_of[i] != k) train.push_back(&eval_q[i]);
      }
      ASSIGN_OR_RETURN(Models m,
                       TrainModels(train, o, ctx.progress, fmt::format("fold {}/{}", k + 1, o.folds)));
      models.push_back(std::move(m));
    }
  } else {
    std::vector<const QueryData*> train;
    for (const QueryData& q : train_q) train.push_back(&q);
    ASSIGN_OR_RETURN(Models m, TrainModels(train, o, ctx.progress, "train-judgments"));
    models.push_back(std::move(m));
  }
  timing["train_models_s"] = Since(t1);

  // Scoring.
  const size_t f = search::FeatureNames().size();
  Accumulator acc_ltr, acc_bm25, acc_bm25qu, acc_dense, acc_hybrid;
  std::vector<double> pred_rel, true_rel;
  std::vector<double> importance(f, 0.0);
  for (size_t qi = 0; qi < eval_q.size(); ++qi) {
    const QueryData& q = eval_q[qi];
    const Models& m = models[cross_fit ? fold_of[qi] : 0];
    std::vector<float> score(q.docs.size()), rel(q.docs.size());
    std::vector<float> x = q.x;
    for (size_t i = 0; i < q.docs.size(); ++i) m.priors.Fill(q.docs[i], x.data() + i * f);
    RETURN_IF_ERROR(m.ranker->Predict(x.data(), q.docs.size(), score.data()));
    RETURN_IF_ERROR(m.regressor->Predict(x.data(), q.docs.size(), rel.data()));
    // Full retrieval: only retrieved candidates, by the ranker.
    std::vector<size_t> order(q.n_retrieved);
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return score[a] > score[b]; });
    std::vector<int64_t> full;
    for (size_t i = 0; i < order.size() && i < kFullDepth; ++i) full.push_back(q.docs[order[i]]);
    acc_ltr.AddFull(full, q);
    // Rerank: the judged products by the ranker; hybrid ablation by fused score.
    std::vector<size_t> judged_idx;
    for (size_t i = 0; i < q.docs.size(); ++i) {
      if (q.judged.count(q.docs[i])) judged_idx.push_back(i);
    }
    auto rerank_by = [&](const auto& s) {
      std::vector<size_t> idx = judged_idx;
      std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return s[a] > s[b]; });
      std::vector<int64_t> r;
      for (size_t i : idx) r.push_back(q.docs[i]);
      return r;
    };
    acc_ltr.AddRerank(rerank_by(rel), q);  // the relevance model orders judged products
    acc_hybrid.AddRerank(rerank_by(q.fused), q);
    for (size_t i : judged_idx) {
      pred_rel.push_back(std::clamp(static_cast<double>(rel[i]), 1.0, 3.0));
      true_rel.push_back(q.judged.at(q.docs[i]));
    }
    acc_bm25.AddFull(q.bm25, q);
    acc_bm25qu.AddFull(q.bm25_qu, q);
    if (o.dense) acc_dense.AddFull(q.dense, q);
    acc_hybrid.AddFull(q.hybrid, q);
  }
  // Mean |SHAP| per feature of the first model on a sample, for the report.
  if (!models.empty() && !eval_q.empty()) {
    size_t rows = 0;
    for (size_t qi = 0; qi < eval_q.size() && rows < 20000; qi += 7) {
      const QueryData& q = eval_q[qi];
      ASSIGN_OR_RETURN(std::vector<float> c,
                       models[0].ranker->Contributions(q.x.data(), q.docs.size()));
      for (size_t r = 0; r < q.docs.size(); ++r) {
        for (size_t j = 0; j < f; ++j) importance[j] += std::abs(c[r * (f + 1) + j]);
      }
      rows += q.docs.size();
    }
    nlohmann::json imp;
    for (size_t j = 0; j < f; ++j) imp[search::FeatureNames()[j]] = rows ? importance[j] / rows : 0;
    timing["ltr_mean_abs_contribution"] = imp;
  }

  EvalReport report;
  report.dataset = DatasetName(ctx.inputs.judgments);
  report.metrics = acc_ltr.Metrics(true);
  ASSIGN_OR_RETURN(double rmse, Rmse(pred_rel, true_rel));
  report.metrics["rmse"] = rmse;
  report.ablations["bm25"] = acc_bm25.Metrics(false);
  report.ablations["bm25+qu"] = acc_bm25qu.Metrics(false);
  if (o.dense) report.ablations["dense"] = acc_dense.Metrics(false);
  report.ablations["hybrid"] = acc_hybrid.Metrics(true);
  report.ablations["hybrid+ltr"] = acc_ltr.Metrics(true);
  report.ablations["hybrid+ltr"]["rmse"] = rmse;
  timing["total_s"] = Since(t0);
  report.extra = {{"products", catalog->size()},
                  {"queries", eval_q.size()},
                  {"judgment_rows", eval_j.rows},
                  {"judgments_unknown_product", eval_j.unknown_products},
                  {"encoder", bert ? "bert" : o.dense ? "subword" : "none"},
                  {"training", cross_fit ? fmt::format("{}-fold cross-fitting by query", o.folds)
                                         : "--train-judgments " + ctx.inputs.train_judgments},
                  {"timing", timing}};
  return report;
}

}  // namespace souk::eval
