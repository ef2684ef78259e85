// Scenarios: what the recommendation pipeline does for each kind of request,
// as data. A PipelineConfig names, per scenario, the candidate sources (with
// how many candidates each proposes, their weight in the rank fusion and their
// options), whether the learned ranker orders the union, the rerankers in the
// order they run, and the sources used for shoppers without history.
//
// Built-in defaults (DefaultPipelineConfig):
//   home       cooccurrence 100, ease 100, sasrec 100*, content 50*, buy_again 20,
//              popular 50; ranker; seen_filter (purchases), stock_filter, mmr 0.8.
//              Cold: trending 100, popular 100, cooccurrence 50 + content 50*
//              (neighbours of the context items, if any).
//   similar    content 100*, cooccurrence 100, ease 50; no ranker; needs items;
//              seen_filter (context items only), stock_filter, mmr 0.9.
//   fbt        fbt 50, cooccurrence 50; no ranker; needs items (the cart or the
//              product page); seen_filter (context + purchases), stock_filter.
//   next       sasrec 100*, cooccurrence 100, content 50*, popular 20; ranker;
//              seen_filter (purchases, viewed items, context), stock_filter.
//              Cold: trending, popular.
//   buy-again  buy_again 100; no ranker; seen_filter keeping purchases,
//              stock_filter. Cold: nothing (an empty list with a note).
//   trending   trending 100, popular 50; no ranker; stock_filter.
// (* optional: skipped with a note when the source is not built in -- sasrec
// needs libtorch -- or cannot fit the data.)
//
// JSON form (a TOML file with the same structure is accepted too):
//   {"name": "default", "max_n": 1000, "history_limit": 200, "rrf_k": 60,
//    "ranker": {"objective": "rank:ndcg", "rounds": 200, "max_depth": 6, "eta": 0.1,
//               "max_users": 3000, "label_fraction": 0.1, "horizon_days": 0,
//               "valid_fraction": 0.2, "seed": 7},
//    "scenarios": {"home": {"sources": [{"name": "ease", "k": 100, "weight": 1,
//                                         "optional": false, "options": {}}],
//                           "cold_sources": [...], "ranker": true,
//                           "requires_items": false,
//                           "rerankers": [{"name": "mmr", "options": {"lambda": 0.7}}]}}}
// ParsePipelineConfig merges such a document over a base: top-level keys and
// each given field of a given scenario replace the base's; scenarios not named
// keep the base's definition. Unknown keys, unknown scenario names and wrong
// types are InvalidArgument naming the path ("scenarios.home.sources[1].k").
// ValidatePipelineConfig then checks the source and reranker names against the
// registries (NotFound naming the scenario and the unknown name).
//
// Thread-safety: plain values.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "rank/gbdt_model.h"

namespace souk::recommend {

class SourceRegistry;
class RerankerRegistry;

// The scenario names a pipeline knows, in display order.
const std::vector<std::string>& ScenarioNames();
bool IsKnownScenario(std::string_view name);

struct SourceSpec {
  std::string name;                // registry name ("ease", "content", ...)
  int k = 100;                     // candidates asked of it per request (>= 1)
  double weight = 1.0;             // weight in the reciprocal-rank fusion (>= 0)
  bool optional = false;           // skip (with a note) when unavailable or unfit
  nlohmann::json options = nlohmann::json::object();  // the source's options
  // Filled by the Recommender: the instance id (the folder name of the fitted
  // source; equal name + options share one instance across scenarios).
  std::string id;
};

struct RerankerSpec {
  std::string name;                // registry name ("seen_filter", "mmr", ...)
  nlohmann::json options = nlohmann::json::object();
};

struct ScenarioConfig {
  std::string name;
  std::vector<SourceSpec> sources;
  std::vector<SourceSpec> cold_sources;  // used when the request has no history
  bool use_ranker = false;               // order the union with the learned ranker
  bool requires_items = false;           // the request must name context items
  std::vector<RerankerSpec> rerankers;   // run in this order
};

// Training of the learned ranker (rec_ranker.h).
struct RankerTrainOptions {
  bool enabled = true;                 // false: every scenario uses the rank fusion
  int max_users = 3000;                // users sampled for training + validation
  double label_fraction = 0.1;         // the latest share of interactions is the label window
  double horizon_days = 0;             // label window length after the split (0 = to the end)
  double valid_fraction = 0.2;         // share of sampled users used for validation
  int min_positive_groups = 20;        // fewer training users with a positive: no ranker
  uint64_t seed = 7;
  rank::GbdtOptions gbdt = {.objective = "rank:ndcg", .rounds = 200,
                            .early_stopping_rounds = 20, .eta = 0.1, .max_depth = 6};
};

struct PipelineConfig {
  std::string name = "default";        // shown in results and manifests (A/B tests)
  int max_n = 1000;                    // larger n are clamped (with a note)
  int history_limit = 200;             // latest history events used per request
  double rrf_k = 60;                   // reciprocal-rank fusion constant
  RankerTrainOptions ranker;
  std::map<std::string, ScenarioConfig> scenarios;
};

PipelineConfig DefaultPipelineConfig();

// Merges `doc` (a JSON object) over `base`; see the file comment.
StatusOr<PipelineConfig> ParsePipelineConfig(const nlohmann::json& doc,
                                             const PipelineConfig& base = DefaultPipelineConfig());
// Reads a .json or .toml file and merges it over `base`. Errors name the file.
StatusOr<PipelineConfig> LoadPipelineConfigFile(const std::string& path,
                                                const PipelineConfig& base = DefaultPipelineConfig());
// The complete configuration as JSON (ParsePipelineConfig of it over an empty
// base gives the same configuration back).
nlohmann::json PipelineConfigToJson(const PipelineConfig& config);

// Checks every source and reranker name against the registries and the reranker
// options by creating each reranker once. Optional sources may be unknown.
Status ValidatePipelineConfig(const PipelineConfig& config, const SourceRegistry& sources,
                              const RerankerRegistry& rerankers);

}  // namespace souk::recommend
