// "content": neighbours by text. Every item's text (ItemInfo::text, or the title
// when empty) is embedded with an lm::Encoder into an index::VectorIndex
// (cosine, HNSW, filtered), so an item is recommendable as soon as it has an
// embedding -- items without any interaction are valid candidates, and
// AddOrUpdateItem adds catalog items after Fit (cold start).
//
// The encoder is given at construction (MakeContentSource) and borrowed; when
// none is given (the registry's "content" factory), Fit trains a SubwordEncoder
// (lm/subword_encoder.h, no external weights) on the item texts and the source
// owns it (saved with the source, so AddOrUpdateItem works after Load).
//
// Candidates: the query vector is the normalized, weighted mean of the
// normalized embeddings of the context items and the last max_history history
// events (recency-weighted, see RequestSeeds); its nearest items, excluding
// the query items themselves, best first; score = cosine to the query vector.
// Reason "similar_to" with evidence_item = the query item closest to the
// candidate and value = their cosine.
//
// Thread-safety: Candidates/ScoreAll/ItemEmbedding/Save may run concurrently
// after Fit/Load; AddOrUpdateItem needs exclusion against every other call.
// Cost: Fit = encoder training (when owned) + encoding + index build;
// Candidates = one filtered index search + |query| x k dot products.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "index/vector_index.h"
#include "lm/encoder.h"
#include "recommend/candidate_source.h"

namespace souk::recommend {

struct ContentOptions {
  // --- behavior ---
  int max_history = 20;          // history events in the query (>= 0)
  double recency_decay = 0.8;    // query weight factor per newer event (0, 1]
  double context_weight = 4;     // query weight of each context item (>= 0)
  double min_similarity = 0;     // drop candidates whose cosine to the query is lower ([-1, 1])
  bool exclude_seen = true;      // do not propose the query items themselves
  // --- the encoder trained at Fit when none is given ---
  int encoder_dim = 64;     // embedding size (8..1024)
  int encoder_epochs = 5;   // training passes (1..100)
  // --- performance ---
  int threads = 2;          // encoder training threads (>= 1)
  int hnsw_m = 32;          // vector index graph degree (2..256)
  int ef_search = 128;      // vector index search beam (>= 1)

  static StatusOr<ContentOptions> FromJson(const nlohmann::json& options);
  nlohmann::json ToJson() const;
};

class ContentSource final : public CandidateSource {
 public:
  static constexpr char kName[] = "content";
  static constexpr int kFormatVersion = 1;

  // `encoder` is borrowed and must outlive the source; null = train a
  // SubwordEncoder at Fit.
  ContentSource(const lm::Encoder* encoder, ContentOptions options);
  ~ContentSource() override;

  std::string Name() const override { return kName; }
  // FailedPrecondition when no item has text with usable words; the encoder's
  // and the index's errors.
  Status Fit(const InteractionData& data, const ProgressOptions& progress) override;
  void Candidates(const RecommendRequest& request, int k,
                  std::vector<Candidate>* out) const override;
  // Cosine of every embedded item to the query vector (-infinity otherwise).
  void ScoreAll(const RecommendRequest& request, std::span<float> scores) const override;
  // Writes manifest.json, embeddings.bin, index/ and (when owned) encoder/.
  Status Save(const std::string& dir) const override;
  // FailedPrecondition when the source has a borrowed encoder whose name or
  // version differs from the one the embeddings were made with.
  Status Load(const std::string& dir, const InteractionData& data) override;

  // Embeds `text` for `item` (a data item, or a new dense id past the fitted
  // ones, at most kMaxNewItems past the current capacity) and makes it a
  // candidate at once. `category` is used for request category filters.
  // Errors: InvalidArgument for a negative / too large id or a text without
  // usable words; FailedPrecondition when the source has no encoder (loaded
  // from a save whose encoder was borrowed) or was never fitted.
  Status AddOrUpdateItem(int32_t item, const std::string& text, const std::string& category = "");

  // Cold start without touching the fitted source: embeds `text` (an item the
  // model has not seen) and returns its k nearest embedded items, best first;
  // score = cosine, reason kind "similar_to_text" with evidence_text = `label`.
  // Thread-safe with Candidates (const). Errors: FailedPrecondition before
  // Fit/Load or without an encoder; InvalidArgument when the text has no word
  // the encoder knows; the index's errors.
  Status SimilarToText(const std::string& text, const std::string& label, int k,
                       std::vector<Candidate>* out) const;

  // The unit embedding of `item` (dim() floats), or null when it has none.
  // Valid until the next AddOrUpdateItem / Load / Fit.
  const float* ItemEmbedding(int32_t item) const;
  int dim() const { return dim_; }
  // The encoder in use (borrowed or owned); null before Fit/Load.
  const lm::Encoder* encoder() const { return encoder_; }

  static constexpr int32_t kMaxNewItems = 10'000'000;

 private:
  // Unit query vector of a request, the query items; false when empty.
  bool QueryVector(const RecommendRequest& request, std::vector<float>* query,
                   std::vector<int32_t>* query_items) const;
  void Grow(int32_t capacity);

  ContentOptions options_;
  const lm::Encoder* encoder_ = nullptr;       // borrowed or owned_encoder_.get()
  std::unique_ptr<lm::Encoder> owned_encoder_;
  int dim_ = 0;
  int32_t num_fitted_items_ = 0;               // items of the fitted data
  std::vector<float> embeddings_;              // capacity x dim
  std::vector<uint8_t> has_embedding_;         // capacity
  std::vector<std::string> categories_;        // capacity
  std::unique_ptr<index::VectorIndex> index_;
};

// A content source using `encoder` (borrowed; null = train a SubwordEncoder at
// Fit). Returned as ContentSource so callers can use AddOrUpdateItem and
// ItemEmbedding; it converts to unique_ptr<CandidateSource>.
std::unique_ptr<ContentSource> MakeContentSource(const lm::Encoder* encoder,
                                                 ContentOptions options = {});

}  // namespace souk::recommend
