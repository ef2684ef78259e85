// Purchase intent of a data directory: training the three intent models from the
// store (`souk train intent`), loading the CURRENT version, and scoring a live
// shopper from the store's latest events (`souk intent`, the recommender's
// intent switch).
//
// Layout: <data_dir>/models/intent/<version>/ with manifest.json {kind:
// "intent_models", format_version, watermark, levels, metrics}, priors.json,
// and one IntentModel folder per model: session/, item/, customer/ (item and
// customer are skipped, with a note in the manifest, when the data cannot
// support them), and encoder/: a sub-word encoder learned from the item titles
// and categories for the session feature text_similarity (mean cosine of
// consecutive viewed items). <data_dir>/models/intent/CURRENT names the version in use.
//
// Training data: the store's events assembled into sessions (the event's session
// id, else an inactivity cut per user, online.session_timeout_minutes), labelled "contains a purchase",
// cut before the first purchase (rank/intent_features.h LabeledSession). The
// customer model trains on customers' histories before reference times 30, 60
// and 90 days before the last event, labelled "buys in the next 30 days".
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/app_context.h"
#include "common/config.h"
#include "lm/subword_encoder.h"
#include "rank/intent_features.h"
#include "rank/intent_model.h"
#include "recommend/rec_features.h"
#include "store/store.h"

namespace souk::app {

// <data_dir>/models/intent
std::filesystem::path IntentModelsDir(const std::string& data_dir);
// online.session_timeout_minutes in milliseconds (at least 1 minute).
int64_t SessionGapMs(const Config& config);

struct IntentModels {
  std::string version;
  std::unique_ptr<rank::IntentModel> session, item, customer;  // item/customer may be null
  std::unique_ptr<lm::SubwordEncoder> encoder;  // item texts for text_similarity (may be null)
  rank::IntentPriors priors;
  double base_rate = 0;       // training sessions that converted
  double high_threshold = 0;  // level "high" at or above
  double low_threshold = 0;   // level "low" below
  nlohmann::json manifest;
};

// "high" | "medium" | "low".
std::string IntentLevel(const IntentModels& models, double probability);

// Trains and saves a new version, makes it CURRENT. Returns the report
// {"version", "dir", "watermark", "sessions", "base_rate", "models": {name: {rows,
// positives, oof_roc_auc, oof_ece, rounds} | {"skipped": reason}}, "seconds"}.
// FailedPrecondition when the store has too few sessions or purchases.
StatusOr<nlohmann::json> TrainIntentModels(const AppContext& ctx, store::Store& store);

// FailedPrecondition telling the user to run `souk train intent` when none.
StatusOr<std::unique_ptr<IntentModels>> LoadCurrentIntentModels(const std::string& data_dir);

struct LiveIntentArgs {
  std::string user;     // external user id
  std::string session;  // external session id ("" = the user's latest session)
  std::string lang = "en";
  int drivers = 5;
  int64_t session_gap_ms = 30LL * 60 * 1000;  // online.session_timeout_minutes
};

// The shopper's live intent from the store's events now:
// {"user", "session", "events", "model",
//  "session_intent": {"probability", "level", "drivers": [{feature, value,
//                     contribution, text}]},
//  "items": [{"item", "probability"}],            (item model; viewed/carted items)
//  "customer_intent": {...} | null,               (customer model; known users)
//  "notes": [...]}
// InvalidArgument when neither user nor session is given; a shopper without
// events gets the base rate with a note, never an error.
StatusOr<nlohmann::json> ScoreLiveIntent(store::Store& store, const IntentModels& models,
                                         const LiveIntentArgs& args);

// The recommender's intent function: the session model on the last session of
// a history (events within 30 minutes of each other, ending at the newest), with
// the items' category, brand and price from the fitted data. Thread-safe.
recommend::IntentFn MakeIntentFn(std::shared_ptr<const IntentModels> models, int64_t gap_ms);

}  // namespace souk::app
