// EVAL.md protocol E ("cn-ner", task "ner"): Chinese e-commerce attribute
// extraction on character-level BIEOS files (brand HP, product type HC).
// Entity-level exact-match precision / recall / F1 per type and micro-averaged.
// The entity tagger (search/entity_tagger.h) trains on --train only and picks
// its epoch on --dev; metrics are reported on --test when given, else on --dev.
//
//   souk eval ner --train train.txt.bieos --dev dev.txt.bieos
//       --gazetteer brand1.dic --gazetteer product1.dic --json
//
// Ablations: "no_gazetteer" (the same model without gazetteer features) and
// "gazetteer_longest_match" (greedy longest match over the --gazetteer files
// plus every training entity, no model), "training_entities_longest_match" (the
// same over training entities only). With --test, "model_dev" holds the model's
// dev numbers.
//
// Thread-safety: the helpers are pure; NerProtocol runs one evaluation at a time.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "eval/protocol.h"
#include "search/entity_tagger.h"
#include "search/gazetteer.h"

namespace souk::eval {

// Metric map of EVAL.md E from match counts: "precision", "recall", "f1"
// (micro), "precision_T", "recall_T", "f1_T" for every type T in `types` and in
// the counts, "n_sentences" and "n_entities" (gold entities).
std::map<std::string, double> NerMetrics(const search::EntityMatchStats& stats,
                                         const std::vector<std::string>& types, size_t n_sentences);

// Exact-match counts of `tagger` over gold sentences.
search::EntityMatchStats ScoreTagger(const search::EntityTagger& tagger,
                                     const std::vector<search::TaggedSentence>& gold);
// Exact-match counts of the greedy longest-match baseline (Gazetteer::LongestMatches
// with no length cap) over gold sentences.
search::EntityMatchStats ScoreLongestMatch(const search::Gazetteer& gazetteer,
                                           const std::vector<search::TaggedSentence>& gold);

// The entity type and path of a --gazetteer value: "TYPE=PATH", or a bare PATH
// whose file name contains "brand" (HP) or "product" (HC). InvalidArgument
// otherwise, saying to use TYPE=PATH.
StatusOr<std::pair<std::string, std::string>> ParseGazetteerFlag(std::string_view value);

class NerProtocol final : public EvalProtocol {
 public:
  std::string Name() const override { return "cn-ner"; }
  std::string Task() const override { return "ner"; }
  std::string Description() const override {
    return "EVAL.md E: BIEOS brand/product entity extraction (--train, --dev, [--test], "
           "--gazetteer FILE ...)";
  }
  // --ner-epochs N (training passes, best on dev kept), --ner-model-out PATH
  // (save the trained tagger).
  void AddOptions(CLI::App* cmd) override;
  StatusOr<EvalReport> Run(const EvalContext& ctx) override;

  // What the flags set.
  void set_epochs(int epochs) { epochs_ = epochs; }
  void set_model_out(std::string path) { model_out_ = std::move(path); }

 private:
  int epochs_ = 0;  // 0: TaggerOptions default
  std::string model_out_;
};

}  // namespace souk::eval
