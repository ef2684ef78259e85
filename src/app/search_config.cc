#include "app/search_config.h"

namespace souk::app {

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
  return s;
}

}  // namespace souk::app
