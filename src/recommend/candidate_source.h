// CandidateSource: one way of proposing items for a recommendation request
// (popular/trending, co-occurrence, collaborative filter, sequential
// transformer, content neighbours, frequently-bought-together, buy-again).
// The pipeline (recommender.h) asks several sources for candidates, ranks the
// union with a learned ranker, reranks (filters, diversity, long tail) and
// turns each candidate's Reason into the text a shop can show.
//
// Sources are created by name from a SourceRegistry filled at start-up
// (RegisterBuiltinSources), fitted on an InteractionData, saved to and loaded
// from a folder (manifest.json {"kind": Name(), "format_version", ...} plus
// the source's own files).
//
// Thread-safety: after Fit/Load, Candidates and ScoreAll are const and may run
// concurrently. Fit/Load are single-threaded (they may use threads inside).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/progress.h"
#include "common/status.h"
#include "recommend/interactions.h"

namespace souk::recommend {

// Why an item was proposed, as evidence the shop can show. `kind` is one of:
//   "popular"        -- best seller overall            (evidence_text: "")
//   "trending"       -- trending in a category         (evidence_text: category)
//   "viewed_with"    -- co-viewed / co-bought with an item of the history
//                                                      (evidence_item)
//   "bought_with"    -- frequently bought together     (evidence_item; value = lift)
//   "similar_to"     -- similar text / content         (evidence_item; value = cosine)
//   "because_you"    -- collaborative filter: shoppers like you (evidence_item = the
//                       history item that contributed most, or -1)
//   "next_in_sequence" -- sequential model: what usually follows the recent items
//                       (evidence_item = the most recent history item)
//   "buy_again"      -- repurchase cycle               (evidence_item = the item;
//                                                      value = cycle in days)
struct Reason {
  std::string source;              // CandidateSource::Name()
  std::string kind;
  int32_t evidence_item = -1;      // dense item of the data, -1 = none
  std::string evidence_text;
  double value = 0;
};

struct Candidate {
  int32_t item = -1;               // dense item
  float score = 0;                 // the source's own score (higher = better)
  Reason reason;
};

// Per-request parameters (what the shop asks).
struct RecommendRequest {
  std::string scenario = "home";   // home | similar | fbt | next | buy-again | trending
  int32_t user = -1;               // dense user of the fitted data; -1 = unknown / anonymous
  std::vector<int32_t> items;      // context items: the product page item, the cart
  std::vector<HistoryEvent> history;  // the user's / session's events, oldest first,
                                      // including live events not yet in the data
  std::string category;            // restrict to a category prefix ("" = any)
  int64_t now_ms = 0;              // request time (0 = the data's last timestamp)
  int n = 10;                      // how many items to return
  // P(the live session ends with a purchase) from the intent model; NaN =
  // unknown (the Recommender then asks RecommenderDeps::intent_of, if set).
  float intent = std::numeric_limits<float>::quiet_NaN();
};

class CandidateSource {
 public:
  virtual ~CandidateSource() = default;
  // Registry name, stored in manifests ("popular", "cooccurrence", "ease", "sasrec",
  // "content", "fbt", "buy_again", ...).
  virtual std::string Name() const = 0;

  // Learns from `data` (finalized). Errors: InvalidArgument for unusable options,
  // FailedPrecondition when the data cannot support the source (e.g. no events).
  virtual Status Fit(const InteractionData& data, const ProgressOptions& progress) = 0;

  // Appends up to k candidates for `request`, best first, each with its Reason.
  // Items the source knows nothing about for this request are simply not
  // returned (a source may return nothing). Never fails: bad ids in the request
  // are ignored.
  virtual void Candidates(const RecommendRequest& request, int k,
                          std::vector<Candidate>* out) const = 0;

  // Scores every item (scores.size() == num_items of the fitted data; higher =
  // better; items the source cannot score get -infinity). Used by full-ranking
  // evaluation. Default: Candidates(request, num_items) scattered into scores.
  virtual void ScoreAll(const RecommendRequest& request, std::span<float> scores) const;

  // Persists what Fit learned into `dir` (created) / restores it. The data the
  // source is loaded with must be the one it was fitted on (same dense ids);
  // Load checks the item count and fails with FailedPrecondition otherwise.
  virtual Status Save(const std::string& dir) const = 0;
  virtual Status Load(const std::string& dir, const InteractionData& data) = 0;
};

// Creates sources by name. Options come as a JSON object (the source's options
// struct fields by name; unknown keys are an InvalidArgument naming the key).
class SourceRegistry {
 public:
  using Factory =
      std::function<StatusOr<std::unique_ptr<CandidateSource>>(const nlohmann::json& options)>;
  // AlreadyExists on a duplicate name.
  Status Register(std::string name, Factory factory);
  // NotFound listing the known names.
  StatusOr<std::unique_ptr<CandidateSource>> Create(const std::string& name,
                                                    const nlohmann::json& options = {}) const;
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, Factory> factories_;
};

// Registers the sources of souk_recommend (no libtorch): popular, trending,
// cooccurrence, ease, content, fbt, buy_again. The libtorch sequential source
// registers itself with RegisterSasRecSource (recommend/sasrec_source.h).
Status RegisterBuiltinSources(SourceRegistry& registry);

// Helpers for options parsing: InvalidArgument naming the first key of
// `options` that is not in `known`.
Status CheckOptionKeys(const nlohmann::json& options, std::span<const std::string_view> known,
                       std::string_view source_name);

// Keeps the k best of `scored` (item, score) by decreasing score (ties by
// increasing item) and returns them in order. Cost O(n log k).
std::vector<std::pair<int32_t, float>> TopK(std::span<const std::pair<int32_t, float>> scored,
                                            int k);

}  // namespace souk::recommend
