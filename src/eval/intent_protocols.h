// EVAL.md D: purchase intent (`souk eval intent --protocol rees46 --events FILE`,
// `--protocol online-shoppers --data FILE`, `--protocol synthetic --dir DIR`).
//
// Session protocols (rees46, synthetic): sessions are grouped by their session
// id; a session's events are ordered by time (file order breaks ties); the label
// is "the session contains a purchase"; features use only the events before its
// first purchase (all events when it has none); a session whose first event is a
// purchase is dropped. Split by session start time: the earliest 70% train, the
// latest 30% test (ties by session id). The customer history of a session is the
// user's events before the session's start. Category = the event's category id
// (rees46) / the item's leaf category (synthetic).
//
// Models, all trained on the training sessions only and scored in the same run:
//   engine                XGBoost + isotonic calibration (rank/intent_model.h) over
//                         the session features (rank/intent_features.h), category
//                         and item priors out of fold
//   logistic_regression   L2 logistic regression on the same features (missing
//                         values imputed with the training mean)
//   logistic_counts       logistic regression on simple session counts (views,
//                         add-to-carts, distinct items, duration)
//   has_add_to_cart       the heuristic score 1/0
// metrics = the engine: roc_auc, pr_auc, log_loss, base_rate (test), n_test,
// n_pos, plus ece, roc_auc_ci_low/high (bootstrap 95%), and
// delta_vs_lr_ci_low/high (paired bootstrap of engine - logistic_regression).
// ablations = the baselines with the same keys (and "engine_uncalibrated").
// extra: reliability curve of the engine, feature importance (mean |SHAP|),
// counts.
//
// online-shoppers: rows in file order, first 70% train, last 30% test; the
// engine is the same calibrated XGBoost over the 17 columns plus derived ones
// (log page values, page-value presence, per-page durations, one-hot month,
// visitor type and traffic type); baselines:
// logistic_regression (standardized numeric + one-hot month/visitor type) and
// xgboost_default (GbdtOptions defaults, binary:logistic, no tuning, the raw
// columns).
//
// Thread-safety: Run is not reentrant.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "eval/protocol.h"
#include "rank/intent_features.h"
#include "rank/intent_sessions.h"

namespace souk::eval {

// Session assembly lives in rank/intent_sessions.h (also used by `souk train intent`).
using rank::BuildIntentSessions;
using rank::IntentSessionData;
using RawIntentEvent = rank::IntentRawEvent;

// REES46 `2019-Oct.sample.csv` -> sessions. NotFound / InvalidArgument naming the
// path and the missing column.
StatusOr<IntentSessionData> ReadRees46Sessions(const std::string& path);
// A `souk generate` folder (items.jsonl, events.csv, ground_truth/sessions.csv).
StatusOr<IntentSessionData> ReadSyntheticSessions(const std::string& dir);

struct SessionIntentOptions {
  double train_fraction = 0.7;
  int prior_folds = 5;
  int bootstrap = 1000;
  uint64_t seed = 17;
  rank::IntentModelOptions model;
};

// Trains on the earliest train_fraction of `data` and reports on the rest.
StatusOr<EvalReport> EvaluateSessionIntent(const IntentSessionData& data,
                                           const SessionIntentOptions& options,
                                           const ProgressOptions& progress);

// Online Shoppers CSV -> report (see above).
StatusOr<EvalReport> EvaluateOnlineShoppers(const std::string& path,
                                            const SessionIntentOptions& options,
                                            const ProgressOptions& progress);

// Registers rees46, online-shoppers and synthetic under task "intent".
Status AddIntentProtocols(ProtocolRegistry& registry);

}  // namespace souk::eval
