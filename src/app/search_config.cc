#include "app/search_config.h"

#include <fmt/format.h>

#include <fstream>
#include <memory>

#include "lm/embedding_cache.h"
#include "lm/encoder_registry.h"
#include "lm/model_download.h"

namespace souk::app {
namespace fs = std::filesystem;

lm::BertEncoderOptions BertOptionsFrom(const Config& c) {
  lm::BertEncoderOptions o;
  o.threads = static_cast<int>(std::max<int64_t>(0, c.GetInt("lm.threads")));
  o.batch_size = static_cast<int>(c.GetInt("lm.batch_size"));
  o.max_length = static_cast<int>(std::max<int64_t>(0, c.GetInt("lm.max_length")));
  o.int8 = c.GetBool("lm.int8");
  o.query_prefix = c.GetString("lm.query_prefix");
  o.document_prefix = c.GetString("lm.document_prefix");
  return o;
}

fs::path BertModelsDir(const std::string& data_dir) { return fs::path(data_dir) / "models" / "bert"; }

StatusOr<fs::path> ResolveModelDir(const std::string& data_dir, const std::string& spec) {
  if (spec.empty()) return InvalidArgumentError("no model given (a model folder or a pulled hub id)");
  std::error_code ec;
  const fs::path path(spec);
  if (fs::exists(path, ec)) {
    if (!fs::is_directory(path, ec)) {
      return InvalidArgumentError(fmt::format("model {}: not a folder", spec));
    }
    return path;
  }
  StatusOr<fs::path> hub = lm::HubModelDir(data_dir, spec);
  if (hub.ok() && fs::is_directory(*hub, ec)) return *hub;
  if (hub.ok()) {
    return NotFoundError(fmt::format(
        "model {}: no such folder, and no pulled hub model at {} (run `souk model pull {} --data-dir {}`)",
        spec, hub->string(), spec, data_dir));
  }
  return NotFoundError(fmt::format("model {}: no such folder", spec));
}

StatusOr<fs::path> SearchBertModelDir(const Config& c, const std::string& data_dir) {
  const std::string& model = c.GetString("lm.model");
  if (!model.empty()) return ResolveModelDir(data_dir, model);
  const fs::path dir = BertModelsDir(data_dir);
  std::string version;
  {
    std::ifstream in(dir / "CURRENT");
    std::getline(in, version);
  }
  std::error_code ec;
  if (version.empty() || !fs::is_directory(dir / version, ec)) {
    return FailedPreconditionError(fmt::format(
        "lm.encoder is bert but there is no BERT model: run `souk train encoder --data-dir {}` "
        "or set lm.model to a model folder or a pulled hub id{}",
        data_dir, version.empty() ? "" : fmt::format(" ({} names {}, which is missing)",
                                                     (dir / "CURRENT").string(), version)));
  }
  return dir / version;
}

search::StoreSearchConfig SearchConfigFrom(const Config& c) {
  search::StoreSearchConfig s;
  search::SearchOptions& o = s.search;
  o.lexical_candidates = static_cast<size_t>(std::max<int64_t>(1, c.GetInt("search.lexical_candidates")));
  o.dense_candidates = static_cast<size_t>(std::max<int64_t>(1, c.GetInt("search.dense_candidates")));
  o.dense = c.GetBool("search.dense");
  o.fusion = c.GetString("search.fusion");
  o.rrf_k = c.GetDouble("search.rrf_k");
  o.lexical_weight = c.GetDouble("search.lexical_weight");
  o.dense_weight = c.GetDouble("search.dense_weight");
  o.ltr = c.GetBool("search.ltr");
  o.rerank_depth = static_cast<size_t>(std::max<int64_t>(1, c.GetInt("search.rerank_depth")));
  o.personalization_weight = c.GetDouble("search.personalization_weight");
  o.qu.spelling = c.GetBool("search.spelling");
  o.qu.spelling_min_confidence = c.GetDouble("search.spelling_min_confidence");
  o.qu.brand_as_filter = c.GetBool("search.brand_as_filter");
  o.qu.category_intent = c.GetBool("search.category_intent");
  const std::string& rules = c.GetString("search.synonyms");
  size_t start = 0;
  while (start < rules.size()) {
    size_t end = rules.find(';', start);
    if (end == std::string::npos) end = rules.size();
    std::string rule = rules.substr(start, end - start);
    if (!rule.empty()) s.synonyms.push_back(rule);
    start = end + 1;
  }
  s.mine_synonyms = c.GetBool("search.mine_synonyms");
  index::LexicalIndexOptions& l = s.build.lexical;
  l.bm25_k1 = c.GetDouble("lexical.bm25_k1");
  l.bm25_b = c.GetDouble("lexical.bm25_b");
  l.stem_language = c.GetString("lexical.stem_language");
  l.field_weight[0] = c.GetDouble("lexical.weight_title");
  l.field_weight[1] = c.GetDouble("lexical.weight_brand");
  l.field_weight[2] = c.GetDouble("lexical.weight_category");
  l.field_weight[3] = c.GetDouble("lexical.weight_description");
  l.field_weight[4] = c.GetDouble("lexical.weight_attributes");
  s.build.vectors.hnsw_m = static_cast<int>(c.GetInt("vector.hnsw_m"));
  s.build.vectors.ef_construction = static_cast<int>(c.GetInt("vector.ef_construction"));
  s.build.vectors.ef_search = static_cast<int>(c.GetInt("vector.ef_search"));
  s.build.vectors.exact_below = static_cast<size_t>(std::max<int64_t>(0, c.GetInt("vector.exact_below")));
  s.build.encoder.dim = static_cast<int>(c.GetInt("subword.dim"));
  s.build.encoder.epochs = static_cast<int>(c.GetInt("subword.epochs"));
  s.build.encoder.threads = static_cast<int>(c.GetInt("subword.threads"));
  s.build.encoder.stem_language = l.stem_language;
  s.ranker.rounds = static_cast<int>(c.GetInt("ranker.rounds"));
  s.ranker.max_depth = static_cast<int>(c.GetInt("ranker.max_depth"));
  s.ranker.eta = c.GetDouble("ranker.eta");
  s.ranker.threads = static_cast<int>(c.GetInt("ranker.threads"));
  s.holdout_fraction = c.GetDouble("ranker.holdout_fraction");

  // Encoders: the registry loads what an index was built with; lm.encoder
  // picks what a new index is built with.
  auto registry = std::make_shared<lm::EncoderRegistry>();
  if (lm::RegisterBuiltinEncoders(*registry).ok() && lm::RegisterBertEncoder(*registry).ok()) {
    s.encoders = std::move(registry);
  }
  const std::string kind = c.GetString("lm.encoder");
  if (kind == "bert") {
    const lm::BertEncoderOptions options = BertOptionsFrom(c);
    s.load_encoder = [c, options](const std::string& data_dir)
        -> StatusOr<std::shared_ptr<const lm::Encoder>> {
      ASSIGN_OR_RETURN(fs::path dir, SearchBertModelDir(c, data_dir));
      StatusOr<std::unique_ptr<lm::BertEncoder>> enc = lm::BertEncoder::Load(dir, options);
      if (!enc.ok()) {
        return Status(enc.status().code(),
                      fmt::format("BERT model {}: {}", dir.string(), enc.status().message()));
      }
      return std::shared_ptr<const lm::Encoder>(std::move(*enc));
    };
  } else if (kind != "subword") {
    s.load_encoder = [kind](const std::string&) -> StatusOr<std::shared_ptr<const lm::Encoder>> {
      return InvalidArgumentError(fmt::format("lm.encoder must be subword or bert, got '{}'", kind));
    };
  }
  if (c.GetBool("lm.embedding_cache")) {
    s.open_embedding_cache = [](const std::string& data_dir) -> StatusOr<search::DocumentEmbedCache> {
      ASSIGN_OR_RETURN(std::unique_ptr<lm::EmbeddingCache> opened,
                       lm::EmbeddingCache::Open(fs::path(data_dir) / "cache" / "embeddings.db"));
      std::shared_ptr<lm::EmbeddingCache> cache = std::move(opened);
      return search::DocumentEmbedCache(
          [cache](std::string_view key, int dim, std::span<const std::string> texts, const lm::EmbedFn& embed,
                  int batch_size, float* out, const ProgressOptions* progress) {
            return lm::EmbedWithCache(cache.get(), key, dim, texts, embed, batch_size, out, progress);
          });
    };
  }
  return s;
}

}  // namespace souk::app
