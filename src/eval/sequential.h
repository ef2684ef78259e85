// EVAL.md protocol B: sequential recommendation on S3-Rec style files
// ("user item1 item2 ..." per line, time order), leave-one-out, full ranking
// over all items with the user's earlier items removed (the target kept),
// HR@10, NDCG@10, HR@20, NDCG@20 over all users.
//
// Models plug in as SequenceScorer variants (by name) of AmazonSeqProtocol:
//   protocol->AddModel("sasrec", [] { return std::make_unique<SasRecScorer>(); });
// The popularity baseline is always reported under ablations "popularity" and
// "popularity_valid"; the chosen model (--seq-model, default popularity) gives
// "metrics" and "<model>_valid".
//
// Thread-safety: SequenceDataset and a fitted SequenceScorer are read-only;
// ScoreAll may be called concurrently. EvaluateSequential is single-threaded.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/progress.h"
#include "common/status.h"
#include "eval/protocol.h"

namespace souk::eval {

// Users' item sequences with items mapped to dense indices 0..num_items()-1 in
// increasing order of their original (integer) ids.
struct SequenceDataset {
  std::vector<int64_t> user_ids;                // original user id per line
  std::vector<std::vector<int32_t>> sequences;  // dense item indices, time order
  std::vector<int64_t> item_ids;                // dense index -> original item id
  int32_t num_items() const { return static_cast<int32_t>(item_ids.size()); }
};

// Reads an S3-Rec sequence file. Blank lines are skipped; a line with a user and
// no item is kept with an empty sequence (it yields no target). Errors: NotFound
// for a missing file; DataLoss "PATH:LINE: ..." for a token that is not a
// non-negative integer.
StatusOr<SequenceDataset> ReadSequenceFile(const std::string& path);
// The same from text already in memory (`source_name` is used in messages).
StatusOr<SequenceDataset> ParseSequenceText(std::string_view text, std::string_view source_name);

// A next-item model that scores every item for a user history.
class SequenceScorer {
 public:
  virtual ~SequenceScorer() = default;
  virtual std::string Name() const = 0;
  // Learns from the training parts of the sequences only (dense item indices
  // in [0, num_items)). Called once before ScoreAll.
  virtual Status Fit(std::span<const std::vector<int32_t>> train_sequences, int32_t num_items) = 0;
  // Called by the protocol before Fit with each user's validation target
  // (parallel to train_sequences; -1 = the user has none), so a model may select
  // epochs / hyper-parameters on the validation targets only (EVAL.md B). The
  // test targets are never shown. Default: ignored.
  virtual void SetValidationTargets(std::span<const int32_t> valid_targets) {}
  // Writes a score for every item (higher = recommended first);
  // scores.size() == num_items. Must be thread-safe after Fit.
  virtual void ScoreAll(std::span<const int32_t> history, std::span<float> scores) const = 0;
};

// Most-popular baseline: score(i) = number of occurrences of i in the training
// sequences (history ignored).
class PopularityScorer final : public SequenceScorer {
 public:
  std::string Name() const override { return "popularity"; }
  Status Fit(std::span<const std::vector<int32_t>> train_sequences, int32_t num_items) override;
  void ScoreAll(std::span<const int32_t> history, std::span<float> scores) const override;

 private:
  std::vector<float> counts_;
};

// 1-based rank of `target` in the full ranking of `scores` after removing the
// items of `history` (except the target itself). Items are ordered by
// decreasing score, ties by increasing dense index (a stable sort of the item
// list), so the rank is 1 + #{j kept: s_j > s_t} + #{j kept, j < t: s_j == s_t}.
// `mask` is scratch space of size scores.size(), all zero on entry and on exit.
int64_t RankOfTarget(std::span<const float> scores, int32_t target,
                     std::span<const int32_t> history, std::vector<uint8_t>& mask);

enum class LeaveOneOutTarget {
  kValid,  // second-to-last item; history = the training part
  kTest,   // last item; history = every earlier item
};

// Scores every user's target with `scorer` (already fitted) and returns
// {"hr@10", "ndcg@10", "hr@20", "ndcg@20", "n_users"} averaged over the users
// that have the target (users with no valid target are not counted for kValid).
std::map<std::string, double> EvaluateSequential(const SequenceDataset& data,
                                                 const SequenceScorer& scorer,
                                                 LeaveOneOutTarget target,
                                                 const ProgressOptions& progress);

// The training parts (everything before the validation target) of every user.
std::vector<std::vector<int32_t>> LeaveOneOutTrainParts(const SequenceDataset& data);
// Every user's validation target (the second-to-last item), -1 for users with
// fewer than two items; parallel to LeaveOneOutTrainParts.
std::vector<int32_t> LeaveOneOutValidTargets(const SequenceDataset& data);

// `souk eval rec --protocol amazon-seq --data FILE [--seq-model NAME]`.
class AmazonSeqProtocol final : public EvalProtocol {
 public:
  using ScorerFactory = std::function<std::unique_ptr<SequenceScorer>()>;

  // Registers the built-in "popularity" model.
  AmazonSeqProtocol();

  // Adds a model variant selectable with --seq-model NAME. AlreadyExists on a
  // duplicate name.
  Status AddModel(std::string name, ScorerFactory factory);
  std::vector<std::string> ModelNames() const;

  std::string Name() const override { return "amazon-seq"; }
  std::string Task() const override { return "rec"; }
  std::string Description() const override {
    return "EVAL.md B: leave-one-out next item, full ranking (--data FILE, --seq-model NAME)";
  }
  void AddOptions(CLI::App* cmd) override;
  StatusOr<EvalReport> Run(const EvalContext& ctx) override;

  // Selects the model (what --seq-model sets).
  void set_model(std::string name) { model_ = std::move(name); }

 private:
  std::vector<std::pair<std::string, ScorerFactory>> models_;
  std::string model_ = "popularity";
};

}  // namespace souk::eval
