// Data-quality report and explicit cleaning of a Souk store.
//
// ComputeQuality() reads one Snapshot in a single streaming pass over the items
// and one over the events and measures completeness, validity, uniqueness,
// consistency, timeliness, anomalies (bot-like users and sessions),
// popularity concentration, cold start and the quarantine. Every section
// carries short findings (info/warn/error); every figure a gate may test is
// also in the flat `metrics` map (names: QualityMetricNames(), documented in
// docs/quality.md) that `--fail-on` conditions read.
//
// Clean() applies cleaning rules explicitly through Store::RemoveEvents and
// reports what it removed (or, with dry_run, what it would remove).
//
// Memory: bounded by per-item, per-user and per-session aggregates, one
// (user,item) entry per distinct viewed pair, one 8-byte hash per event for the
// exact-duplicate count (80 MB for 10M events), a day histogram and a
// time-occupancy bitmap of at most 16 MB. Events themselves are never held.
//
// Thread-safety: functions are reentrant; a Snapshot is used by one thread.
// Errors: store read errors are returned as they come; nothing here throws.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/progress.h"
#include "common/status.h"
#include "store/store.h"

namespace souk::quality {

struct QualityOptions {
  // Behavior (config keys quality.*)
  double bot_events_per_minute = 30;  // rate at or above which a user/session is bot-like
  int64_t bot_min_events = 20;        // only users/sessions with at least this many events are judged
  double no_dwell_seconds = 1;        // a view followed by the next event this fast had no dwell
  double outlier_z = 3.5;             // robust z-score threshold for price outliers
  int64_t cold_threshold = 5;         // fewer interactions than this = cold item/user
  int64_t session_gap_s = 1800;       // inactivity that cuts sessions of events without session id
  // Reference times
  int64_t now_ms = 0;                          // events after now + 1 day are "future"; 0 = no check
  int64_t very_old_before_ms = 946684800000;   // events before this (2000-01-01) are "very old"
  // Output
  size_t max_examples = 10;           // examples listed per section (suspects, outliers, ...)
};

enum class Severity { kInfo, kWarn, kError };
std::string_view SeverityName(Severity s);

struct Finding {
  Severity severity = Severity::kInfo;
  std::string message;
};

// Completeness (present / applicable) and validity (valid / present) of one field.
struct FieldQuality {
  std::string name;          // "title", "price (purchases)", ...
  int64_t applicable = 0;    // records the field applies to
  int64_t present = 0;       // records where it is non-empty
  int64_t valid = 0;         // present and passing `rule` (== present when rule is empty)
  std::string rule;          // validity rule in words; empty = none
  double Completeness() const;  // NaN when applicable == 0
  double Validity() const;      // NaN when present == 0 or there is no rule
};

struct CompletenessSection {
  int64_t catalog_items = 0;              // live, non-stub items (the denominator for item fields)
  std::vector<FieldQuality> item_fields;  // title, description, brand, category, price, currency,
                                          // attributes, images, in_stock, language
  std::vector<FieldQuality> event_fields; // user, session, item, price/quantity (purchases),
                                          // query (searches), value (ratings)
  std::vector<Finding> findings;
};

struct TitleDuplicate {
  std::string normalized_title;
  int64_t items = 0;
  std::vector<std::string> item_ids;  // the first few
};

struct UniquenessSection {
  int64_t duplicate_title_groups = 0;   // normalized titles shared by >= 2 items
  int64_t duplicate_title_items = 0;    // items in those groups
  std::vector<TitleDuplicate> title_examples;  // largest groups first
  int64_t duplicate_events = 0;         // events equal to an earlier one in every field a StoredEvent
                                        // carries; the context is not compared (StoredEvent lacks it), so
                                        // this is an upper bound of what Clean(dedupe) removes
  std::vector<Finding> findings;
};

struct PriceOutlier {
  std::string item_id;
  std::string category;
  double price = 0;
  double category_median = 0;
  double robust_z = 0;
};

struct ConsistencySection {
  int64_t purchases = 0;                       // purchase events naming an item and a user
  int64_t purchases_without_prior = 0;         // no earlier view/click/cart of that item by that user
  int64_t categories_checked = 0;              // leaf categories with >= 5 priced items
  int64_t priced_items_checked = 0;
  int64_t price_outliers = 0;
  std::vector<PriceOutlier> outlier_examples;  // largest |z| first
  int64_t live_items = 0;                      // not deleted, stubs included
  int64_t never_interacted_items = 0;
  int64_t stub_items = 0;                      // live items created from events only
  int64_t stub_events = 0;                     // events naming a stub item
  std::vector<Finding> findings;
};

struct TimeGap {
  int64_t start_ms = 0;  // last activity before the gap (at gap_resolution_ms)
  int64_t end_ms = 0;    // first activity after it
};

struct TimelinessSection {
  int64_t events = 0;
  int64_t min_ms = 0, max_ms = 0;
  int64_t days_in_range = 0;       // UTC calendar days from the first to the last event
  int64_t days_with_events = 0;
  int64_t empty_days = 0;          // days inside the range without any event
  double events_per_day_mean = 0;  // over days_in_range
  double events_per_day_median = 0;
  int64_t busiest_day_ms = 0, busiest_day_events = 0;
  int64_t gap_resolution_ms = 1000;
  std::vector<TimeGap> largest_gaps;  // top 3, longest first
  int64_t future_events = 0;          // after now + 1 day (0 when now_ms was not given)
  int64_t very_old_events = 0;        // before very_old_before_ms
  std::string event_delay = "n/a";    // ingestion delay
  std::string event_delay_reason;
  std::vector<Finding> findings;
};

// A user or session judged for bot-likeness.
struct Suspect {
  std::string id;               // external user id or session id ("user:<id>#<n>" when cut by gap)
  int64_t events = 0;
  int64_t views = 0;
  int64_t purchases = 0;
  double span_s = 0;
  double events_per_minute = 0;
  double burstiness_cv = 0;     // coefficient of variation of inter-event gaps
  double no_dwell_share = 0;    // views followed by the next event within no_dwell_seconds
  double bot_score = 0;         // 0..1, see docs/quality.md
  bool bot_like = false;        // rate >= bot_events_per_minute and events >= bot_min_events
};

struct AnomalySection {
  int64_t users = 0, users_judged = 0, bot_users = 0;
  int64_t bot_user_events = 0, bot_user_views = 0;
  int64_t sessions = 0;                 // sessions by id plus sessions cut by inactivity
  int64_t sessions_from_ids = 0, sessions_cut_by_gap = 0;
  int64_t sessions_judged = 0, bot_sessions = 0, bot_session_events = 0;
  int64_t views_measured = 0;           // views followed by another event of the same user
  int64_t views_without_dwell = 0;
  int64_t total_views = 0;
  int64_t never_purchasing_judged_users = 0;  // judged users without a purchase
  double session_length_p50 = 0, session_length_p99 = 0, session_length_p999 = 0;
  int64_t extreme_sessions = 0;         // length > p99.9 or > 500 events
  std::vector<Suspect> top_users;       // highest bot score first
  std::vector<Suspect> top_sessions;
  std::vector<Suspect> extreme_examples;
  std::vector<std::string> bot_user_ids;     // every bot-like user (external ids)
  std::vector<std::string> bot_session_ids;  // every bot-like session that has a session id
  int64_t bot_sessions_without_id = 0;       // bot-like sessions cut by inactivity
  std::vector<Finding> findings;
};

struct PopularitySection {
  int64_t items = 0;           // live items (zero-interaction ones included)
  int64_t interactions = 0;    // item events except impressions
  double gini = 0;
  double top1_share = 0;       // interactions of the top 1% items (at least one item)
  double top20_share = 0;
  double long_tail_interaction_share = 0;  // 1 - top20_share
  double long_tail_item_share = 0;         // items outside the smallest head holding 80%
  std::vector<Finding> findings;
};

struct ColdStartSection {
  int64_t threshold = 0;
  int64_t items = 0, cold_items = 0;
  int64_t users = 0, cold_users = 0;
  std::vector<Finding> findings;
};

struct QuarantineSection {
  int64_t total = 0;
  std::map<std::string, int64_t> reasons;
  double share = 0;  // total / (total + events + catalog items)
  std::vector<Finding> findings;
};

struct QualityReport {
  QualityOptions options;
  int64_t watermark = 0;
  int64_t items = 0, events = 0, users = 0;
  std::map<std::string, int64_t> events_by_type;  // event type name -> count
  CompletenessSection completeness;
  UniquenessSection uniqueness;
  ConsistencySection consistency;
  TimelinessSection timeliness;
  AnomalySection anomalies;
  PopularitySection popularity;
  ColdStartSection cold_start;
  QuarantineSection quarantine;
  // Flat named figures for gates; NaN when not measurable. Keys = QualityMetricNames().
  std::map<std::string, double> metrics;
};

// Computes the report. `progress` (may be null) advances by one per event read.
// Cost: one pass over items, one over events, O(items log items) for popularity.
StatusOr<QualityReport> ComputeQuality(store::Snapshot& snapshot, store::Store& store,
                                       const QualityOptions& options, Progress* progress);

// Gini coefficient of non-negative counts (0 = equal, -> 1 = concentrated).
double Gini(std::vector<int64_t> counts);
// Share of the total held by the largest ceil(fraction * n) counts (at least one).
double TopShare(std::vector<int64_t> counts, double fraction);

// Every metric name, sorted.
const std::vector<std::string>& QualityMetricNames();

nlohmann::json QualityReportToJson(const QualityReport& report);
std::string QualityReportToText(const QualityReport& report);

// ---- --fail-on conditions -------------------------------------------------------------

enum class CompareOp { kLess, kLessEqual, kGreater, kGreaterEqual, kEqual, kNotEqual };

// "metric OP number", OP one of < <= > >= == !=. The condition describes a failure.
struct MetricCondition {
  std::string metric;
  CompareOp op = CompareOp::kGreater;
  double threshold = 0;
  std::string text;  // as written
};

// Parses comma-separated conditions. Unknown metric names are InvalidArgument
// errors listing every valid name; malformed conditions name the offending text.
StatusOr<std::vector<MetricCondition>> ParseFailOn(std::string_view expr);

struct ConditionResult {
  MetricCondition condition;
  double value = 0;
  bool violated = false;       // the condition holds (so the gate fails)
  bool not_available = false;  // metric is NaN: never violated
  std::string message;         // "bot_user_share = 0.023 > 0.01 (threshold)" and similar
};
std::vector<ConditionResult> EvaluateConditions(const std::vector<MetricCondition>& conditions,
                                                const std::map<std::string, double>& metrics);

// ---- cleaning -------------------------------------------------------------------------

struct CleanOptions {
  bool drop_bot_sessions = false;  // remove events of bot-like sessions that have a session id
  bool drop_bot_users = false;     // remove every event of bot-like users
  bool dedupe = false;             // keep only the first of exactly identical events
  bool dry_run = false;            // only report what would be removed
};

struct CleanResult {
  bool dry_run = false;
  int64_t events_before = 0;
  std::vector<std::string> sessions;     // session ids targeted
  std::vector<std::string> users;        // external user ids targeted
  int64_t bot_sessions_without_id = 0;   // bot-like sessions that cannot be removed by id
  int64_t duplicate_events = 0;          // duplicates among events left by the other rules
  int64_t predicted_removed = 0;         // from a pass over a snapshot
  int64_t removed = 0;                   // from Store::RemoveEvents (0 in a dry run)
  int64_t events_after = 0;
};

// Finds bot-like users/sessions with ComputeQuality, predicts the removal and
// (unless dry_run) calls Store::RemoveEvents once. No rule selected = InvalidArgument.
StatusOr<CleanResult> Clean(store::Store& store, const QualityOptions& quality_options,
                            const CleanOptions& options, Progress* progress);

nlohmann::json CleanResultToJson(const CleanResult& result);
std::string CleanResultToText(const CleanResult& result);

}  // namespace souk::quality
