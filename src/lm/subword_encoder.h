// SubwordEncoder: fastText-style sub-word embeddings learned from the shop's own
// catalog (titles, category paths, descriptions, brands), so dense retrieval
// works without any external model weights. Registry name "subword".
//
// Words are the terms of souk::text::Analyzer (normalized, segmented, stemmed).
// A word is represented by the mean of its own row (if it is in the training
// vocabulary) and the rows of the hashed character n-grams of "<word>"
// (n = minn..maxn characters, FNV-1a 32 into `buckets` rows). Misspellings
// ("samsng") and unseen compounds therefore share rows with the words they
// resemble; CJK words get character n-grams too.
//
// Training (Train): skip-gram with negative sampling over the caller's corpus
// (random window 1..window, `negatives` negatives from the unigram^0.75
// table, subsampling of frequent words, linear learning-rate decay), hogwild
// across `threads` threads. With threads == 1 and a fixed seed the result is
// bit-for-bit deterministic.
//
// Sentence embedding (Encode): each word vector is L2-normalized and weighted
// by SIF a/(a + p(w)) (p = corpus frequency, 0 for unseen words), the
// weighted mean loses its projection on the first principal component of the
// training corpus' sentence vectors (stored with the model), and the result is
// L2-normalized. A text with no usable word (empty, punctuation only, or only
// words whose n-gram rows were never trained) gives an all-zero row.
// TextKind is ignored (the encoder is symmetric).
//
// Supervised refinement (TrainPairs): (query text, engaged item text) pairs
// pull the query's embedding toward the item's and away from other items'
// (softmax over the positive and sampled in-batch negatives on exact
// encoder cosines, back-propagated to word and n-gram rows).
//
// Files (Save/Load): manifest.json, vocab.bin (words and corpus counts),
// weights.bin (word rows, output rows, principal component, the non-zero
// n-gram rows); see README.md. Version() is the FNV-1a 64 hash of the bytes
// of vocab.bin followed by weights.bin; Load recomputes it and rejects any
// mismatch, so corrupt or truncated files give DataLoss.
//
// Thread-safety: const methods (Encode, WordVector, Save, ...) are safe to
// call concurrently. TrainPairs mutates the model and must not run
// concurrently with anything else on the same object.
// Cost: Encode of a short query ~10-30 µs (mostly the Analyzer); memory
// ~ (2 * words + touched buckets) * dim * 4 bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/progress.h"
#include "common/status.h"
#include "lm/encoder.h"
#include "lm/encoder_registry.h"
#include "text/analyzer.h"

namespace souk::lm {

struct SubwordOptions {
  // --- behavior ---
  int dim = 128;                          // embedding size
  int min_count = 1;                      // words seen fewer times get no own row (n-grams only)
  int minn = 3;                           // shortest character n-gram of "<word>"
  int maxn = 5;                           // longest character n-gram (0 = no n-grams)
  uint32_t buckets = 200000;              // hash rows shared by all n-grams
  int window = 5;                         // max context distance (sampled uniformly in 1..window)
  int negatives = 5;                      // negative samples per (word, context) pair
  double sample = 1e-4;                   // subsampling threshold of frequent words (0 = off)
  int epochs = 5;                         // passes over the corpus
  float learning_rate = 0.05f;            // initial SGD step, decays linearly to 0
  float sif_a = 1e-3f;                    // SIF weight a/(a + p(w)) in sentence embeddings
  std::string stem_language = "english";  // Analyzer stemmer ("none" disables stemming)
  uint64_t seed = 1;                      // random seed (init, sampling)
  // --- performance ---
  int threads = 1;              // training threads (hogwild when > 1)
  size_t max_pc_texts = 50000;  // corpus texts used for the principal component
};

struct PairTrainingOptions {
  int epochs = 5;              // passes over the pairs
  float learning_rate = 0.2f;  // initial SGD step, decays linearly to 0
  int negatives = 10;          // other pairs' item texts used as negatives per pair
  float temperature = 0.05f;   // softmax temperature on cosines
  uint64_t seed = 1;           // random seed (pair order, negatives)
};

class SubwordEncoder final : public Encoder {
 public:
  static constexpr char kName[] = "subword";
  static constexpr int kFormatVersion = 1;

  // Trains on `corpus` (one text per element: a title, a category path, a
  // description, ...). `progress` null = silent. Errors: InvalidArgument for
  // out-of-range options (naming the field) or a corpus without a single
  // word; the Analyzer's errors (e.g. an unknown stem_language).
  // Cost: ~10 s wall per epoch on 55k product titles (2 threads, dim 128).
  static StatusOr<std::unique_ptr<SubwordEncoder>> Train(const std::vector<std::string>& corpus,
                                                         const SubwordOptions& options,
                                                         ProgressOptions* progress);

  // Loads a model saved by Save. Errors: NotFound (no manifest or file),
  // DataLoss (malformed manifest, truncated or corrupt files, hash mismatch),
  // FailedPrecondition (format_version this build does not read).
  static StatusOr<std::unique_ptr<SubwordEncoder>> Load(const std::string& dir);
  // Same with an already-read manifest (the registry's loader).
  static StatusOr<std::unique_ptr<SubwordEncoder>> Load(const std::string& dir,
                                                        const EncoderManifest& manifest);

  // Refines the model with (query text, engaged item text) pairs; needs at
  // least two pairs with different item texts for negatives. Changes
  // Version(). Errors: InvalidArgument for bad options or too few pairs.
  Status TrainPairs(const std::vector<std::pair<std::string, std::string>>& pairs,
                    const PairTrainingOptions& options, ProgressOptions* progress);

  // --- Encoder ---
  std::string Name() const override { return kName; }
  std::string Version() const override { return version_; }
  int Dim() const override { return dim_; }
  Status Encode(std::span<const std::string> texts, TextKind kind, float* out) const override;
  Status Save(const std::string& dir) const override;

  // Unit-length vector of one analyzed term (vocabulary row + n-grams, or
  // n-grams only); all zeros when nothing about the term was trained.
  std::vector<float> WordVector(std::string_view term) const;
  // The Analyzer terms of `text` (what Encode embeds).
  std::vector<std::string> Terms(std::string_view text) const { return analyzer_->Terms(text); }
  size_t vocab_size() const { return words_.size(); }
  uint32_t buckets() const { return buckets_; }

  // FNV-1a 32-bit hash of `bytes` (n-gram bucket = hash % buckets).
  static uint32_t HashNgram(std::string_view bytes);
  // Character n-grams (n = minn..maxn, in UTF-8 characters) of "<word>",
  // ordered by n then position; the whole "<word>" is included when its
  // length is within range, single "<" or ">" never are.
  static std::vector<std::string> CharNgrams(std::string_view word, int minn, int maxn);

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  class Trainer;
  class WeightSink;

  SubwordEncoder() = default;

  // Input-matrix rows representing `term` (own row first if in vocabulary).
  void TermRows(std::string_view term, std::vector<uint32_t>* rows) const;
  // Unnormalized mean of the input rows; returns false when it is all zero.
  bool MeanOfRows(std::span<const uint32_t> rows, float* out) const;
  // SIF-weighted mean of unit word vectors (no PC removal, not normalized);
  // returns false when no term has a vector. `scratch` holds >= dim floats.
  bool WeightedSum(const std::vector<std::string>& terms, float* out,
                   std::vector<uint32_t>* rows_scratch, float* scratch) const;
  float SifWeight(int64_t word) const;
  int64_t WordId(std::string_view term) const;
  // Fills subword_offsets_/subword_rows_ from words_ and the n-gram settings.
  void BuildSubwordRows();
  // Recomputes the unit word-vector cache and the SIF weights.
  void RebuildCaches();
  // Recomputes version_ from the serialized bytes.
  void UpdateVersion();
  void ComputePrincipalComponent(const std::vector<std::vector<std::string>>& texts,
                                 size_t max_texts);
  // Feeds vocab.bin's bytes then weights.bin's bytes to `sink`.
  void SerializeVocab(WeightSink& sink) const;
  void SerializeWeights(WeightSink& sink) const;

  // --- configuration ---
  int dim_ = 0;
  int minn_ = 3;
  int maxn_ = 5;
  uint32_t buckets_ = 0;
  float sif_a_ = 1e-3f;
  std::string stem_language_;
  std::unique_ptr<text::Analyzer> analyzer_;

  // --- model ---
  std::vector<std::string> words_;  // vocabulary, by decreasing count
  std::vector<uint64_t> counts_;    // corpus count of each word
  uint64_t total_tokens_ = 0;       // all corpus tokens (also words below min_count)
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> word_ids_;
  std::vector<float> input_;               // (words + buckets) x dim: word rows then n-gram rows
  std::vector<float> output_;              // words x dim: SGNS context rows
  std::vector<float> pc_;                  // dim: first principal component (unit or zero)
  std::vector<uint32_t> subword_offsets_;  // words + 1 offsets into subword_rows_
  std::vector<uint32_t> subword_rows_;     // input rows of each vocabulary word

  // --- caches (derived) ---
  std::vector<float> word_vectors_;  // words x dim: unit word vectors
  std::vector<float> sif_weights_;   // words
  std::string version_;
};

}  // namespace souk::lm
