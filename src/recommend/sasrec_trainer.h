// SasRecModel: a trained SASRec next-item model (sasrec_model.h) behind a
// libtorch-free interface -- training on item sequences, scoring every item
// for a history, saving and loading. Used by SasRecSource (the "sasrec"
// candidate source) and by the protocol-B adapter (eval/seq_models.h).
//
//   SasRecOptions options;                       // defaults: the tuned Beauty setup
//   SasRecTrainReport report;
//   ASSIGN_OR_RETURN(auto model, SasRecModel::Train(sequences, num_items, options,
//                                                   &validation, nullptr, {}, &report));
//   model->ScoreNext(history, scores);          // scores.size() == num_items
//
// Training (loss "ce", the SASRec+ finding of Klenitskiy & Vasilev 2023):
// softmax cross-entropy over ALL items at every non-padding position;
// "sampled": softmax over the target and `negatives` negatives shared by the
// batch (uniform, or popularity with logQ correction); "bce": one uniform
// negative per position not in the user's sequence (the original SASRec).
// Each epoch visits every sequence with at least two items once, in a seeded
// random order (with length_buckets: batches of similar lengths, visited in
// random order); a sequence trains on its last max_len+1 items, padded only to
// the longest of its batch. Optimizer:
// Adam(W) with betas (0.9, 0.98). With a validation set, the model keeps the
// epoch with the best NDCG@10 (full ranking, history items removed except the
// target) and stops after `patience` epochs without improvement.
//
// Deterministic given `seed` with threads = 1 (libtorch's global generator is
// re-seeded at the start of Train: one training per process at a time).
//
// Thread-safety: a trained/loaded model is immutable; ScoreNext may run
// concurrently. Train/Load set libtorch's process-wide thread count when
// options.threads > 0.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/progress.h"
#include "common/status.h"

namespace souk::recommend {

// Defaults: chosen on the Beauty validation targets (protocol B) so that
// training takes under 15 minutes on 2 shared cores: the full softmax ("ce")
// costs ~50 s per Beauty epoch there, 2,048 shared uniform negatives ~17 s, and
// reached a higher validation NDCG@10 within that budget.
struct SasRecOptions {
  // Architecture.
  int max_len = 50;                 // most recent items the model reads
  int hidden = 64;                  // embedding / model width
  int blocks = 2;                   // self-attention blocks
  int heads = 1;                    // attention heads (hidden % heads == 0)
  float dropout = 0.5f;             // embedding, attention and feed-forward dropout
  std::string activation = "relu";  // feed-forward: "relu" | "gelu"
  // Training.
  std::string loss = "sampled";     // "ce" (all items) | "sampled" | "bce"
  int negatives = 2048;             // shared negatives per batch ("sampled")
  std::string sampling = "uniform"; // negatives of "sampled": "uniform" | "popularity"
  int epochs = 30;                  // upper bound on epochs
  int batch_size = 128;             // sequences per step
  float lr = 2e-3f;                 // Adam learning rate
  float weight_decay = 0.0f;        // decoupled (AdamW) weight decay
  int patience = 8;                 // epochs without validation gain before stopping (0 = off)
  int valid_users = 0;              // validation users scored per epoch (0 = all)
  double max_seconds = 0;           // wall-time bound of training (0 = none)
  uint64_t seed = 1;
  // Performance.
  int threads = 0;                  // libtorch intra-op threads (0 = leave as is)
  bool length_buckets = true;       // batch sequences of similar length (less padding)
};

// InvalidArgument naming the first bad field (who: prefix of the message).
Status ValidateSasRecOptions(const SasRecOptions& options, std::string_view who = "sasrec");
// The option names accepted by SasRecOptionsFromJson (for CheckOptionKeys).
std::span<const std::string_view> SasRecOptionKeys();
// Reads the fields present in `json` over `base` (types checked, then
// ValidateSasRecOptions). Unknown keys are not checked here.
StatusOr<SasRecOptions> SasRecOptionsFromJson(const nlohmann::json& json,
                                              const SasRecOptions& base = {},
                                              std::string_view who = "sasrec");
nlohmann::json SasRecOptionsToJson(const SasRecOptions& options);

// Held-out next items for best-epoch selection: targets[u] follows
// histories[u] (-1 = none). Parallel spans; items are dense [0, num_items).
struct SasRecValidation {
  std::span<const std::vector<int32_t>> histories;
  std::span<const int32_t> targets;
};

// Optional item text vectors (num_items x dim, row-major), fused into the item
// representation through a learned linear projection.
struct SasRecItemText {
  std::vector<float> values;
  int32_t dim = 0;
};

struct SasRecEpochLog {
  int epoch = 0;                // 1-based
  double loss = 0;              // mean training loss
  double seconds = 0;           // training time of the epoch (validation excluded)
  double valid_ndcg10 = -1;     // -1 without validation
  double valid_hr10 = -1;
};

struct SasRecTrainReport {
  std::vector<SasRecEpochLog> epochs;
  int best_epoch = 0;           // epoch whose weights were kept (last one without validation)
  double best_valid_ndcg10 = -1;
  double seconds = 0;           // whole training incl. validation
  bool stopped_early = false;   // patience or max_seconds ended training
};

class SasRecModel {
 public:
  ~SasRecModel();
  SasRecModel(const SasRecModel&) = delete;
  SasRecModel& operator=(const SasRecModel&) = delete;

  // Trains on `sequences` (dense items in [0, num_items), time order).
  // `validation` and `text` may be null. Errors: InvalidArgument for bad
  // options, an out-of-range item (naming the sequence), a text matrix of the
  // wrong size or mismatched validation spans; FailedPrecondition when no
  // sequence has two items; Internal for a libtorch failure.
  static StatusOr<std::unique_ptr<SasRecModel>> Train(
      std::span<const std::vector<int32_t>> sequences, int32_t num_items,
      const SasRecOptions& options, const SasRecValidation* validation,
      const SasRecItemText* text, const ProgressOptions& progress,
      SasRecTrainReport* report = nullptr);

  // Writes the next-item score of every item for `history` (dense items, oldest
  // first; out-of-range items are skipped; only the last max_len are read) into
  // `scores` (size num_items(); other sizes: nothing is written). An empty
  // history gives all zeros. Thread-safe; cost ~ one forward pass of
  // max_len positions + a [num_items x hidden] matrix-vector product.
  void ScoreNext(std::span<const int32_t> history, std::span<float> scores) const;
  // The same for many histories at once (scores: histories.size() x num_items,
  // row-major). Faster per history than ScoreNext.
  void ScoreNextBatch(std::span<const std::vector<int32_t>> histories,
                      std::span<float> scores) const;

  // model.safetensors (weights, text buffer) + manifest.json {"kind": "sasrec",
  // "format_version": 1, "num_items", "text_dim", "options", "best_epoch"} in
  // `dir` (created), written atomically. Errors: Unavailable naming the file.
  Status Save(const std::filesystem::path& dir) const;
  // Errors: NotFound (no manifest), InvalidArgument/DataLoss (wrong kind or
  // format_version, bad options, missing or mis-shaped tensors).
  static StatusOr<std::unique_ptr<SasRecModel>> Load(const std::filesystem::path& dir);

  int32_t num_items() const;
  const SasRecOptions& options() const;
  int32_t text_dim() const;

 private:
  struct Impl;
  explicit SasRecModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace souk::recommend
