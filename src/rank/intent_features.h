// Intent features: the rows of the three intent models (rank/intent_model.h),
// computed from live session state (online/session.h).
//
//   session model   P(this session ends with a purchase | its events so far)
//                   SessionFeatures(counters, events, customer, priors, signals, now)
//   item model      P(the shopper buys item i in this session), i viewed or carted
//                   ItemFeatures(..., item_id)
//   customer model  P(the customer buys anything in the next 30 days)
//                   CustomerFeatures(customer counters, at_ms)
//
// Features are named (the *FeatureNames lists, fixed order) so that drivers can be
// described in the shop's language (DescribeDriver, English and Chinese). Missing
// values are NaN (XGBoost treats them as missing). Times are UTC.
//
// IntentPriors: conversion statistics learned from labelled training sessions
// (P(session buys | it viewed category c), P(session buys | it viewed item i),
// P(item i bought | viewed in the session)), smoothed towards the base rate with
// `smoothing` pseudo-sessions. Training rows must never see their own label
// through the priors: BuildSessionTrainingSet / BuildItemTrainingSet compute the
// priors of each row out of fold (`prior_folds` folds by session).
//
// Thread-safety: everything here is a pure function of its inputs or const.
// Cost: SessionFeatures O(events kept + categories); no allocation-heavy work
// beyond the returned vector.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "online/session.h"
#include "rank/gbdt_model.h"
#include "rank/intent_model.h"

namespace souk::rank {

class IntentPriors {
 public:
  explicit IntentPriors(double smoothing = 20.0) : smoothing_(smoothing) {}
  // One labelled training session: the items and categories it viewed (or
  // carted) before the cut, the items it bought, and whether it converted.
  void AddSession(const online::SessionCounters& before_cut,
                  const std::unordered_set<std::string>& bought_items, bool converted);
  double base_rate() const;  // buying sessions / sessions (0.5 prior with no data)
  double CategoryRate(const std::string& category) const;     // smoothed; base when unknown
  double ItemSessionRate(const std::string& item) const;      // P(session buys | viewed item)
  double ItemBuyRate(const std::string& item) const;          // P(item bought | viewed item)
  int64_t sessions() const { return sessions_; }
  double smoothing() const { return smoothing_; }

  nlohmann::json ToJson() const;
  static StatusOr<IntentPriors> FromJson(const nlohmann::json& j);  // DataLoss naming the field

 private:
  struct Count {
    double n = 0, pos = 0;
  };
  double smoothing_;
  int64_t sessions_ = 0, converted_ = 0;
  double item_views_ = 0, item_bought_ = 0;  // global item-level rate
  std::unordered_map<std::string, Count> category_, item_session_, item_buy_;
};

// Optional signals from other modules (encoder, sequential recommender). The
// default implementation has none (its features are NaN / absent).
class IntentSignals {
 public:
  virtual ~IntentSignals() = default;
  // Mean cosine similarity of consecutive distinct viewed items' text
  // embeddings; NaN when unknown.
  virtual double TextSimilarity(std::span<const online::SessionEvent> events) const;
  // A fixed-size embedding of the session sequence; 0 dims = unavailable.
  virtual int SequenceDims() const { return 0; }
  virtual void SequenceEmbedding(std::span<const online::SessionEvent> events, float* out) const;
};

// Text similarity from item embeddings of any encoder: the mean cosine
// similarity of consecutive distinct viewed, clicked or carted items that have
// an embedding (the newest 50); NaN with fewer than two. `lookup` returns an
// L2-normalized vector or an empty span (unknown item); it must be
// thread-safe when the signals are shared.
class EmbeddingIntentSignals final : public IntentSignals {
 public:
  using Lookup = std::function<std::span<const float>(const std::string& item_id)>;
  explicit EmbeddingIntentSignals(Lookup lookup) : lookup_(std::move(lookup)) {}
  double TextSimilarity(std::span<const online::SessionEvent> events) const override;

 private:
  Lookup lookup_;
};

// --- session model ---
// Names: counts (events, views, carts, removes, searches, purchases), has_cart,
// net_cart, distinct items/categories, repeat-view share, max item views,
// duration, gaps (mean/max/last), cart rate, price level/spread, carted price
// relative to viewed, top-category share, hour of day, day of week, category and
// item conversion priors, text similarity, customer history (returning,
// sessions, buying sessions, purchases, days since last purchase, monetary), and
// seq_0..seq_{d-1} when signals give d > 0 dims.
std::vector<std::string> SessionFeatureNames(int sequence_dims = 0);
std::vector<float> SessionFeatures(const online::SessionCounters& counters,
                                   std::span<const online::SessionEvent> events,
                                   const online::CustomerCounters* customer,
                                   const IntentPriors& priors, const IntentSignals& signals,
                                   int64_t now_ms);

// --- item model ---
std::vector<std::string> ItemFeatureNames();
std::vector<float> ItemFeatures(const online::SessionCounters& counters,
                                std::span<const online::SessionEvent> events,
                                const std::string& item_id,
                                const online::CustomerCounters* customer,
                                const IntentPriors& priors, int64_t now_ms);

// --- customer model ---
std::vector<std::string> CustomerFeatureNames();
// Features of the customer as of at_ms (only counters before at_ms matter for
// day lists; the caller passes counters built from events before at_ms).
std::vector<float> CustomerFeatures(const online::CustomerCounters& customer, int64_t at_ms);

// --- training sets ---
struct LabeledSession {
  online::SessionCounters counters;          // events before the cut only
  std::vector<online::SessionEvent> events;  // events before the cut, by time
  online::CustomerCounters customer;         // the user's history before the session
  bool has_customer = false;                 // false: anonymous / first seen
  std::unordered_set<std::string> bought;    // items bought in the session (after the cut)
  bool converted = false;
  int64_t cut_ms = 0;                        // "now" for the features (last event kept)
  int64_t group = 0;                         // e.g. user; rows of a group share a fold
};

// Rows of the session model for `sessions` (labels = converted), priors out of
// fold. `priors_out` (optional) receives the priors fitted on all sessions, to
// be used at prediction time. groups_out receives LabeledSession::group per row.
TrainingSet BuildSessionTrainingSet(std::span<const LabeledSession> sessions,
                                    const IntentSignals& signals, int prior_folds,
                                    IntentPriors* priors_out, std::vector<int64_t>* groups_out);
// Rows of the item model: one per distinct item viewed or carted before the cut;
// label = item bought in the session.
TrainingSet BuildItemTrainingSet(std::span<const LabeledSession> sessions, int prior_folds,
                                 IntentPriors* priors_out, std::vector<int64_t>* groups_out);

// "3 add-to-carts", "returning customer", "viewed 5 items in 2 categories" /
// "3 次加购", "老客户"; lang "en" (default) or "zh". The sign of the
// contribution picks the phrasing where it matters ("no add-to-cart yet").
std::string DescribeDriver(const Driver& driver, std::string_view lang);

}  // namespace souk::rank
