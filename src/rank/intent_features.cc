// Intent features: see intent_features.h for the contract. The feature lists
// below are the single source of the column order; each builder fills a row by
// name index so that the order can never drift from the names.
#include "rank/intent_features.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <utility>

namespace souk::rank {
namespace {

using online::CustomerCounters;
using online::SessionCounters;
using online::SessionEvent;
using store::EventType;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kDayMs = 86400000.0;
constexpr int64_t kDayMsInt = 86400000;
constexpr int64_t kLast5MinMs = int64_t{5} * 60 * 1000;
constexpr double kDefaultSmoothing = 20.0;

// Every feature value goes through here: finite values pass, anything else
// (inf, overflow to float) becomes NaN (missing).
float Out(double v) {
  if (!std::isfinite(v)) return std::numeric_limits<float>::quiet_NaN();
  const float f = static_cast<float>(v);
  return std::isfinite(f) ? f : std::numeric_limits<float>::quiet_NaN();
}

// Floor division of milliseconds into UTC days (also for negative times).
int64_t DayOf(int64_t ms) { return ms / kDayMsInt - (ms % kDayMsInt < 0 ? 1 : 0); }

// --- session feature list (the order of the row) ---
enum SessionCol : int {
  kNEvents,
  kNViews,
  kNClicks,
  kNCarts,
  kNRemoves,
  kNSearches,
  kNPurchases,
  kHasCart,
  kNetCart,
  kNDistinctItems,
  kNDistinctCategories,
  kRepeatViewShare,
  kMaxItemViews,
  kDurationS,
  kMeanGapS,
  kMaxGapS,
  kSecsSinceLastEvent,
  kLastGapS,
  kCartPerView,
  kPriceMean,
  kPriceCv,
  kPriceSpread,
  kCartPriceRel,
  kTopCategoryShare,
  kHourOfDay,
  kDayOfWeek,
  kEventsLast5Min,
  kCategoryConv,
  kItemConvMax,
  kItemConvMean,
  kCartItemBuyMax,
  kTextSimilarity,
  kIsReturning,
  kPriorSessions,
  kPriorBuyingSessions,
  kPriorPurchases,
  kPriorConvRate,
  kDaysSinceLastPurchase,
  kDaysSinceFirstSeen,
  kMonetaryLog,
  kNumSessionCols
};
constexpr const char* kSessionNames[kNumSessionCols] = {"n_events",
                                                        "n_views",
                                                        "n_clicks",
                                                        "n_carts",
                                                        "n_removes",
                                                        "n_searches",
                                                        "n_purchases",
                                                        "has_cart",
                                                        "net_cart",
                                                        "n_distinct_items",
                                                        "n_distinct_categories",
                                                        "repeat_view_share",
                                                        "max_item_views",
                                                        "duration_s",
                                                        "mean_gap_s",
                                                        "max_gap_s",
                                                        "secs_since_last_event",
                                                        "last_gap_s",
                                                        "cart_per_view",
                                                        "price_mean",
                                                        "price_cv",
                                                        "price_spread",
                                                        "cart_price_rel",
                                                        "top_category_share",
                                                        "hour_of_day",
                                                        "day_of_week",
                                                        "events_last_5min",
                                                        "category_conv",
                                                        "item_conv_max",
                                                        "item_conv_mean",
                                                        "cart_item_buy_max",
                                                        "text_similarity",
                                                        "is_returning",
                                                        "prior_sessions",
                                                        "prior_buying_sessions",
                                                        "prior_purchases",
                                                        "prior_conv_rate",
                                                        "days_since_last_purchase",
                                                        "days_since_first_seen",
                                                        "monetary_log"};

enum ItemCol : int {
  kItemViews,
  kItemCarted,
  kItemCartAdds,
  kItemRemoved,
  kItemIsLastViewed,
  kItemFirstViewPos,
  kSecsSinceItemLast,
  kItemPriceRel,
  kItemBuyRate,
  kItemSessionRate,
  kItemCategoryConv,
  kItemCategoryShare,
  kItemViewShare,
  kINViews,
  kINCarts,
  kINDistinctItems,
  kIDurationS,
  kIIsReturning,
  kIPriorPurchases,
  kNumItemCols
};
constexpr const char* kItemNames[kNumItemCols] = {"item_views",
                                                  "item_carted",
                                                  "item_cart_adds",
                                                  "item_removed",
                                                  "item_is_last_viewed",
                                                  "item_first_view_pos",
                                                  "secs_since_item_last",
                                                  "item_price_rel",
                                                  "item_buy_rate",
                                                  "item_session_rate",
                                                  "item_category_conv",
                                                  "item_category_share",
                                                  "item_view_share",
                                                  "n_views",
                                                  "n_carts",
                                                  "n_distinct_items",
                                                  "duration_s",
                                                  "is_returning",
                                                  "prior_purchases"};

enum CustomerCol : int {
  kRecencyDays,
  kFrequency,
  kPurchases,
  kCMonetaryLog,
  kTenureDays,
  kSessions,
  kBuyingSessions,
  kConvRate,
  kPurchaseDays30d,
  kPurchaseDays90d,
  kSessions30d,
  kSessions90d,
  kMeanPurchaseGapDays,
  kRecencyOverGap,
  kDaysSinceLastSeen,
  kTotalViews,
  kTotalCarts,
  kNumCustomerCols
};
constexpr const char* kCustomerNames[kNumCustomerCols] = {"recency_days",
                                                          "frequency",
                                                          "purchases",
                                                          "monetary_log",
                                                          "tenure_days",
                                                          "sessions",
                                                          "buying_sessions",
                                                          "conv_rate",
                                                          "purchase_days_30d",
                                                          "purchase_days_90d",
                                                          "sessions_30d",
                                                          "sessions_90d",
                                                          "mean_purchase_gap_days",
                                                          "recency_over_gap",
                                                          "days_since_last_seen",
                                                          "total_views",
                                                          "total_carts"};

// The customer's history before the current session. Live customer counters
// (session tracker) already include the current session's events; training
// counters (LabeledSession) do not. When the customer was seen at or after the
// session's first event, the session's own contribution is taken out.
struct History {
  bool known = false;  // a customer record exists
  double sessions = 0, buying_sessions = 0, purchases = 0, monetary = 0;
  double days_since_last_purchase = kNaN, days_since_first_seen = kNaN;
};

History PriorHistory(const CustomerCounters* c, const SessionCounters& s, int64_t now_ms) {
  History h;
  if (c == nullptr) return h;
  h.known = true;
  const bool includes_session = s.events > 0 && c->events > 0 && c->last_ms >= s.first_ms;
  h.sessions = static_cast<double>(c->sessions);
  h.buying_sessions = static_cast<double>(c->buying_sessions);
  h.purchases = static_cast<double>(c->purchases);
  h.monetary = c->monetary;
  int64_t last_purchase_ms = c->last_purchase_ms;  // 0 = never
  if (includes_session) {
    h.sessions = std::max(0.0, h.sessions - 1);
    h.purchases = std::max(0.0, h.purchases - static_cast<double>(s.purchases));
    if (s.purchases > 0) h.buying_sessions = std::max(0.0, h.buying_sessions - 1);
    h.monetary = std::max(0.0, h.monetary - s.purchase_value);
    if (last_purchase_ms != 0 && last_purchase_ms >= s.first_ms) {
      // The newest purchase belongs to this session: fall back to the newest
      // purchase day before the session's day (day resolution).
      last_purchase_ms = 0;
      const int64_t session_day = DayOf(s.first_ms);
      for (auto it = c->purchase_days.rbegin(); it != c->purchase_days.rend(); ++it) {
        if (*it < session_day) {
          last_purchase_ms = (static_cast<int64_t>(*it) + 1) * kDayMsInt - 1;  // end of day
          break;
        }
      }
    }
  }
  if (last_purchase_ms != 0 && h.purchases > 0) {
    h.days_since_last_purchase =
        std::max(0.0, static_cast<double>(now_ms - last_purchase_ms) / kDayMs);
  }
  if (c->events > 0) {
    h.days_since_first_seen = std::max(0.0, static_cast<double>(now_ms - c->first_ms) / kDayMs);
  }
  return h;
}

// Items the priors consider "viewed" by a session: viewed or (still) carted.
std::vector<const std::string*> ViewedOrCarted(const SessionCounters& c) {
  std::vector<const std::string*> out;
  out.reserve(c.item_views.size() + c.carted.size());
  for (const auto& [item, n] : c.item_views) out.push_back(&item);
  for (const auto& item : c.carted) {
    if (!c.item_views.contains(item)) out.push_back(&item);
  }
  return out;
}

// The events in time order: the span itself when already sorted, else a
// stably sorted copy kept in `storage`.
std::span<const SessionEvent> Sorted(std::span<const SessionEvent> events,
                                     std::vector<SessionEvent>* storage) {
  const auto by_time = [](const SessionEvent& a, const SessionEvent& b) {
    return a.ts_ms < b.ts_ms;
  };
  if (std::is_sorted(events.begin(), events.end(), by_time)) return events;
  storage->assign(events.begin(), events.end());
  std::stable_sort(storage->begin(), storage->end(), by_time);
  return *storage;
}

double MeanPrice(const SessionCounters& c) {
  return c.price_n > 0 ? c.price_sum / c.price_n : kNaN;
}

double CategoryViewTotal(const SessionCounters& c) {
  double total = 0;
  for (const auto& [cat, n] : c.category_views) total += n;
  return total;
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Priors for every session, out of fold: fold k's priors see every session but
// those of fold k. Returns one priors object per fold (or one in-sample object
// with prior_folds < 2) and the fold of each session.
struct FoldPriors {
  std::vector<IntentPriors> per_fold;
  std::vector<int> fold_of;
  const IntentPriors& For(size_t i) const { return per_fold[fold_of[i]]; }
};

FoldPriors BuildFoldPriors(std::span<const LabeledSession> sessions, int prior_folds,
                           double smoothing, IntentPriors* priors_out) {
  FoldPriors fp;
  const int folds = std::max(1, prior_folds);
  fp.fold_of.resize(sessions.size(), 0);
  for (size_t i = 0; i < sessions.size(); ++i) {
    fp.fold_of[i] = folds < 2 ? 0 : static_cast<int>(SplitMix64(i) % static_cast<uint64_t>(folds));
  }
  IntentPriors all(smoothing);
  for (const auto& s : sessions) all.AddSession(s.counters, s.bought, s.converted);
  if (folds < 2) {
    fp.per_fold.push_back(all);
  } else {
    fp.per_fold.assign(folds, IntentPriors(smoothing));
    for (size_t i = 0; i < sessions.size(); ++i) {
      for (int k = 0; k < folds; ++k) {
        if (k != fp.fold_of[i]) {
          fp.per_fold[k].AddSession(sessions[i].counters, sessions[i].bought,
                                    sessions[i].converted);
        }
      }
    }
  }
  if (priors_out != nullptr) *priors_out = std::move(all);
  return fp;
}

// The smoothing of the caller's priors object (when given), so that the priors
// of the training rows use the same smoothing as the returned priors.
double SmoothingOf(const IntentPriors* priors) {
  return priors == nullptr ? kDefaultSmoothing : priors->smoothing();
}

}  // namespace

// ---------------------------------------------------------------- IntentPriors

void IntentPriors::AddSession(const online::SessionCounters& before_cut,
                              const std::unordered_set<std::string>& bought_items, bool converted) {
  ++sessions_;
  if (converted) ++converted_;
  const double pos = converted ? 1.0 : 0.0;
  for (const std::string* item : ViewedOrCarted(before_cut)) {
    const double bought = bought_items.contains(*item) ? 1.0 : 0.0;
    Count& s = item_session_[*item];
    s.n += 1;
    s.pos += pos;
    Count& b = item_buy_[*item];
    b.n += 1;
    b.pos += bought;
    item_views_ += 1;
    item_bought_ += bought;
  }
  for (const auto& [cat, n] : before_cut.category_views) {
    Count& c = category_[cat];
    c.n += 1;
    c.pos += pos;
  }
}

double IntentPriors::base_rate() const {
  return sessions_ > 0 ? static_cast<double>(converted_) / static_cast<double>(sessions_) : 0.5;
}

namespace {
double Smoothed(double pos, double n, double s, double base) {
  const double den = n + s;
  return den > 0 ? (pos + s * base) / den : base;
}
}  // namespace

double IntentPriors::CategoryRate(const std::string& category) const {
  const auto it = category_.find(category);
  if (it == category_.end()) return base_rate();
  return Smoothed(it->second.pos, it->second.n, smoothing_, base_rate());
}

double IntentPriors::ItemSessionRate(const std::string& item) const {
  const auto it = item_session_.find(item);
  if (it == item_session_.end()) return base_rate();
  return Smoothed(it->second.pos, it->second.n, smoothing_, base_rate());
}

double IntentPriors::ItemBuyRate(const std::string& item) const {
  const double global = item_views_ > 0 ? item_bought_ / item_views_ : base_rate();
  const auto it = item_buy_.find(item);
  if (it == item_buy_.end()) return global;
  return Smoothed(it->second.pos, it->second.n, smoothing_, global);
}

nlohmann::json IntentPriors::ToJson() const {
  const auto counts = [](const std::unordered_map<std::string, Count>& m) {
    nlohmann::json o = nlohmann::json::object();
    for (const auto& [key, c] : m) o[key] = nlohmann::json::array({c.n, c.pos});
    return o;
  };
  return nlohmann::json{{"kind", "intent_priors"},
                        {"format_version", 1},
                        {"smoothing", smoothing_},
                        {"sessions", sessions_},
                        {"converted", converted_},
                        {"item_views", item_views_},
                        {"item_bought", item_bought_},
                        {"category", counts(category_)},
                        {"item_session", counts(item_session_)},
                        {"item_buy", counts(item_buy_)}};
}

StatusOr<IntentPriors> IntentPriors::FromJson(const nlohmann::json& j) {
  if (!j.is_object()) return DataLossError("intent priors: not a JSON object");
  const auto number = [&j](const char* field, double* out) -> Status {
    const auto it = j.find(field);
    if (it == j.end() || !it->is_number()) {
      return DataLossError(std::string("intent priors: field '") + field +
                           "' missing or not a number");
    }
    *out = it->get<double>();
    if (!std::isfinite(*out) || *out < 0) {
      return DataLossError(std::string("intent priors: field '") + field +
                           "' must be a finite number >= 0");
    }
    return OkStatus();
  };
  double smoothing = 0, sessions = 0, converted = 0, item_views = 0, item_bought = 0;
  RETURN_IF_ERROR(number("smoothing", &smoothing));
  RETURN_IF_ERROR(number("sessions", &sessions));
  RETURN_IF_ERROR(number("converted", &converted));
  RETURN_IF_ERROR(number("item_views", &item_views));
  RETURN_IF_ERROR(number("item_bought", &item_bought));
  if (converted > sessions) {
    return DataLossError("intent priors: field 'converted' exceeds 'sessions'");
  }
  if (item_bought > item_views) {
    return DataLossError("intent priors: field 'item_bought' exceeds 'item_views'");
  }
  if (const auto it = j.find("kind"); it != j.end() && *it != "intent_priors") {
    return DataLossError("intent priors: field 'kind' is not \"intent_priors\"");
  }
  IntentPriors p(smoothing);
  p.sessions_ = static_cast<int64_t>(sessions);
  p.converted_ = static_cast<int64_t>(converted);
  p.item_views_ = item_views;
  p.item_bought_ = item_bought;
  const auto counts = [&j](const char* field,
                           std::unordered_map<std::string, Count>* out) -> Status {
    const auto it = j.find(field);
    if (it == j.end() || !it->is_object()) {
      return DataLossError(std::string("intent priors: field '") + field +
                           "' missing or not an object");
    }
    out->reserve(it->size());
    for (const auto& [key, v] : it->items()) {
      if (!v.is_array() || v.size() != 2 || !v[0].is_number() || !v[1].is_number()) {
        return DataLossError(std::string("intent priors: field '") + field + "' entry '" + key +
                             "' is not [n, pos]");
      }
      const double n = v[0].get<double>(), pos = v[1].get<double>();
      if (!std::isfinite(n) || !std::isfinite(pos) || n < 0 || pos < 0 || pos > n) {
        return DataLossError(std::string("intent priors: field '") + field + "' entry '" + key +
                             "' has invalid counts");
      }
      (*out)[key] = Count{n, pos};
    }
    return OkStatus();
  };
  RETURN_IF_ERROR(counts("category", &p.category_));
  RETURN_IF_ERROR(counts("item_session", &p.item_session_));
  RETURN_IF_ERROR(counts("item_buy", &p.item_buy_));
  return p;
}

// --------------------------------------------------------------- IntentSignals

double IntentSignals::TextSimilarity(std::span<const online::SessionEvent> /*events*/) const {
  return kNaN;
}

void IntentSignals::SequenceEmbedding(std::span<const online::SessionEvent> /*events*/,
                                      float* /*out*/) const {}

// ------------------------------------------------------------- session features

std::vector<std::string> SessionFeatureNames(int sequence_dims) {
  std::vector<std::string> names(std::begin(kSessionNames), std::end(kSessionNames));
  for (int d = 0; d < sequence_dims; ++d) names.push_back("seq_" + std::to_string(d));
  return names;
}

std::vector<float> SessionFeatures(const online::SessionCounters& c,
                                   std::span<const online::SessionEvent> raw_events,
                                   const online::CustomerCounters* customer,
                                   const IntentPriors& priors, const IntentSignals& signals,
                                   int64_t now_ms) {
  const int dims = std::max(0, signals.SequenceDims());
  std::vector<float> row(kNumSessionCols + dims, 0.0f);
  const auto set = [&row](int col, double v) { row[col] = Out(v); };
  std::vector<SessionEvent> sorted_storage;
  const std::span<const SessionEvent> events = Sorted(raw_events, &sorted_storage);

  // Counts (exact, from the counters).
  set(kNEvents, static_cast<double>(c.events));
  set(kNViews, static_cast<double>(c.views));
  set(kNClicks, static_cast<double>(c.clicks));
  set(kNCarts, static_cast<double>(c.carts));
  set(kNRemoves, static_cast<double>(c.removes));
  set(kNSearches, static_cast<double>(c.searches));
  set(kNPurchases, static_cast<double>(c.purchases));
  set(kHasCart, c.carts > 0 ? 1.0 : 0.0);
  set(kNetCart, static_cast<double>(c.carted.size()));
  set(kNDistinctItems, static_cast<double>(c.distinct_items()));
  set(kNDistinctCategories, static_cast<double>(c.distinct_categories()));
  set(kRepeatViewShare, c.views > 0 ? static_cast<double>(c.repeat_views) / c.views : 0.0);
  set(kMaxItemViews, static_cast<double>(c.max_item_views));

  // Time.
  set(kDurationS, c.duration_s());
  set(kMeanGapS, c.gaps > 0 ? c.gap_sum_s / static_cast<double>(c.gaps) : kNaN);
  set(kMaxGapS, c.gap_max_s);
  const int64_t last_ms = !events.empty() ? std::max(events.back().ts_ms, c.last_ms) : c.last_ms;
  const bool any_event = c.events > 0 || !events.empty();
  set(kSecsSinceLastEvent,
      any_event ? std::max(0.0, static_cast<double>(now_ms - last_ms) / 1000.0) : kNaN);
  set(kLastGapS, events.size() >= 2 ? static_cast<double>(events[events.size() - 1].ts_ms -
                                                          events[events.size() - 2].ts_ms) /
                                          1000.0
                                    : kNaN);
  set(kCartPerView,
      static_cast<double>(c.carts) / static_cast<double>(std::max<int64_t>(1, c.views)));

  // Prices.
  const double mean_price = MeanPrice(c);
  set(kPriceMean, std::isfinite(mean_price) ? std::log1p(std::max(0.0, mean_price)) : kNaN);
  if (c.price_n > 0 && mean_price > 0) {
    const double var = std::max(0.0, c.price_sumsq / c.price_n - mean_price * mean_price);
    set(kPriceCv, std::sqrt(var) / mean_price);
  } else {
    set(kPriceCv, kNaN);
  }
  set(kPriceSpread,
      std::isfinite(c.price_min) && std::isfinite(c.price_max)
          ? std::log1p(std::max(0.0, c.price_max)) - std::log1p(std::max(0.0, c.price_min))
          : kNaN);
  set(kCartPriceRel, c.cart_price_n > 0 && mean_price > 0
                         ? (c.cart_price_sum / c.cart_price_n) / mean_price
                         : kNaN);

  // Categories.
  const double cat_total = CategoryViewTotal(c);
  const std::string* top_category = nullptr;
  int32_t top_views = 0;
  for (const auto& [cat, n] : c.category_views) {
    if (n > top_views || (n == top_views && top_category != nullptr && cat < *top_category)) {
      top_views = n;
      top_category = &cat;
    }
  }
  set(kTopCategoryShare, cat_total > 0 ? top_views / cat_total : kNaN);

  // Calendar (UTC) of "now".
  const int64_t day = DayOf(now_ms);
  const int64_t ms_of_day = now_ms - day * kDayMsInt;
  set(kHourOfDay, static_cast<double>(ms_of_day / 3600000));
  set(kDayOfWeek, static_cast<double>(((day + 3) % 7 + 7) % 7));  // 1970-01-01 was a Thursday
  int64_t recent = 0;
  for (auto it = events.rbegin(); it != events.rend() && it->ts_ms >= now_ms - kLast5MinMs; ++it) {
    ++recent;
  }
  set(kEventsLast5Min, static_cast<double>(recent));

  // Priors.
  set(kCategoryConv, top_category != nullptr ? priors.CategoryRate(*top_category) : kNaN);
  double conv_max = kNaN, conv_sum = 0;
  int conv_n = 0;
  for (const std::string* item : ViewedOrCarted(c)) {
    const double r = priors.ItemSessionRate(*item);
    conv_max = std::isnan(conv_max) ? r : std::max(conv_max, r);
    conv_sum += r;
    ++conv_n;
  }
  set(kItemConvMax, conv_max);
  set(kItemConvMean, conv_n > 0 ? conv_sum / conv_n : kNaN);
  double buy_max = kNaN;
  for (const auto& item : c.carted) {
    const double r = priors.ItemBuyRate(item);
    buy_max = std::isnan(buy_max) ? r : std::max(buy_max, r);
  }
  set(kCartItemBuyMax, buy_max);

  // Signals.
  set(kTextSimilarity, events.empty() ? kNaN : signals.TextSimilarity(events));
  if (dims > 0) {
    std::fill(row.begin() + kNumSessionCols, row.end(), std::numeric_limits<float>::quiet_NaN());
    if (!events.empty()) signals.SequenceEmbedding(events, row.data() + kNumSessionCols);
    for (int d = 0; d < dims; ++d) row[kNumSessionCols + d] = Out(row[kNumSessionCols + d]);
  }

  // Customer history before this session.
  const History h = PriorHistory(customer, c, now_ms);
  set(kIsReturning, h.sessions >= 1 ? 1.0 : 0.0);
  set(kPriorSessions, h.sessions);
  set(kPriorBuyingSessions, h.buying_sessions);
  set(kPriorPurchases, h.purchases);
  set(kPriorConvRate, h.sessions >= 1 ? std::min(1.0, h.buying_sessions / h.sessions) : kNaN);
  set(kDaysSinceLastPurchase, h.days_since_last_purchase);
  set(kDaysSinceFirstSeen, h.days_since_first_seen);
  set(kMonetaryLog, std::log1p(std::max(0.0, h.monetary)));
  return row;
}

// ---------------------------------------------------------------- item features

std::vector<std::string> ItemFeatureNames() {
  return std::vector<std::string>(std::begin(kItemNames), std::end(kItemNames));
}

std::vector<float> ItemFeatures(const online::SessionCounters& c,
                                std::span<const online::SessionEvent> raw_events,
                                const std::string& item_id,
                                const online::CustomerCounters* customer,
                                const IntentPriors& priors, int64_t now_ms) {
  std::vector<float> row(kNumItemCols, 0.0f);
  const auto set = [&row](int col, double v) { row[col] = Out(v); };
  std::vector<SessionEvent> sorted_storage;
  const std::span<const SessionEvent> events = Sorted(raw_events, &sorted_storage);

  // Walk the kept events once for the item's order-dependent facts.
  int64_t cart_adds = 0, removed = 0;
  int64_t first_view_index = -1, last_item_ms = 0;
  bool seen = false;
  const SessionEvent* last_view = nullptr;
  double item_price = kNaN;
  std::string category;
  for (size_t i = 0; i < events.size(); ++i) {
    const SessionEvent& e = events[i];
    if (e.type == EventType::kView && !e.item_id.empty()) last_view = &e;
    if (e.item_id != item_id || item_id.empty()) continue;
    seen = true;
    last_item_ms = e.ts_ms;
    if (e.type == EventType::kView && first_view_index < 0)
      first_view_index = static_cast<int64_t>(i);
    if (e.type == EventType::kAddToCart) ++cart_adds;
    if (e.type == EventType::kRemoveFromCart) ++removed;
    if (std::isfinite(e.price) && e.price >= 0) item_price = e.price;
    if (!e.category.empty()) category = e.category;
  }
  const auto views_it = c.item_views.find(item_id);
  const double item_views = views_it != c.item_views.end() ? views_it->second : 0.0;
  set(kItemViews, item_views);
  set(kItemCarted, c.carted.contains(item_id) ? 1.0 : 0.0);
  set(kItemCartAdds, static_cast<double>(cart_adds));
  set(kItemRemoved, static_cast<double>(removed));
  set(kItemIsLastViewed, last_view != nullptr && last_view->item_id == item_id ? 1.0 : 0.0);
  set(kItemFirstViewPos, first_view_index < 0
                             ? kNaN
                             : (events.size() > 1 ? static_cast<double>(first_view_index) /
                                                        static_cast<double>(events.size() - 1)
                                                  : 0.0));
  set(kSecsSinceItemLast,
      seen ? std::max(0.0, static_cast<double>(now_ms - last_item_ms) / 1000.0) : kNaN);
  const double mean_price = MeanPrice(c);
  set(kItemPriceRel, mean_price > 0 ? item_price / mean_price : kNaN);
  set(kItemBuyRate, priors.ItemBuyRate(item_id));
  set(kItemSessionRate, priors.ItemSessionRate(item_id));
  set(kItemCategoryConv, category.empty() ? kNaN : priors.CategoryRate(category));
  const double cat_total = CategoryViewTotal(c);
  double cat_views = 0;
  if (!category.empty()) {
    const auto it = c.category_views.find(category);
    if (it != c.category_views.end()) cat_views = it->second;
  }
  set(kItemCategoryShare, cat_total > 0 ? cat_views / cat_total : 0.0);
  set(kItemViewShare, c.views > 0 ? item_views / static_cast<double>(c.views) : 0.0);

  set(kINViews, static_cast<double>(c.views));
  set(kINCarts, static_cast<double>(c.carts));
  set(kINDistinctItems, static_cast<double>(c.distinct_items()));
  set(kIDurationS, c.duration_s());
  const History h = PriorHistory(customer, c, now_ms);
  set(kIIsReturning, h.sessions >= 1 ? 1.0 : 0.0);
  set(kIPriorPurchases, h.purchases);
  return row;
}

// ------------------------------------------------------------ customer features

std::vector<std::string> CustomerFeatureNames() {
  return std::vector<std::string>(std::begin(kCustomerNames), std::end(kCustomerNames));
}

std::vector<float> CustomerFeatures(const online::CustomerCounters& c, int64_t at_ms) {
  std::vector<float> row(kNumCustomerCols, 0.0f);
  const auto set = [&row](int col, double v) { row[col] = Out(v); };
  const int64_t at_day = DayOf(at_ms);
  // A day counts when it started before at_ms; windows are the last 30 / 90
  // days up to and including at_ms's day.
  const auto counted = [&](int64_t d) { return d * kDayMsInt < at_ms; };
  int64_t freq = 0, p30 = 0, p90 = 0, first_day = 0, last_day = 0;
  for (int32_t d : c.purchase_days) {
    if (!counted(d)) continue;
    if (freq == 0) first_day = d;
    last_day = d;
    ++freq;
    if (d > at_day - 30) ++p30;
    if (d > at_day - 90) ++p90;
  }
  int64_t s30 = 0, s90 = 0;
  for (int32_t d : c.session_days) {
    if (!counted(d)) continue;
    if (d > at_day - 30) ++s30;
    if (d > at_day - 90) ++s90;
  }
  const double recency = c.last_purchase_ms != 0 && c.purchases > 0
                             ? std::max(0.0, (at_ms - c.last_purchase_ms) / kDayMs)
                             : kNaN;
  const double mean_gap =
      freq >= 2 ? static_cast<double>(last_day - first_day) / static_cast<double>(freq - 1) : kNaN;
  set(kRecencyDays, recency);
  set(kFrequency, static_cast<double>(freq));
  set(kPurchases, static_cast<double>(c.purchases));
  set(kCMonetaryLog, std::log1p(std::max(0.0, c.monetary)));
  set(kTenureDays, c.events > 0 ? std::max(0.0, (at_ms - c.first_ms) / kDayMs) : kNaN);
  set(kSessions, static_cast<double>(c.sessions));
  set(kBuyingSessions, static_cast<double>(c.buying_sessions));
  set(kConvRate, c.sessions > 0 ? std::min(1.0, static_cast<double>(c.buying_sessions) /
                                                    static_cast<double>(c.sessions))
                                : kNaN);
  set(kPurchaseDays30d, static_cast<double>(p30));
  set(kPurchaseDays90d, static_cast<double>(p90));
  set(kSessions30d, static_cast<double>(s30));
  set(kSessions90d, static_cast<double>(s90));
  set(kMeanPurchaseGapDays, mean_gap);
  set(kRecencyOverGap, std::isfinite(recency) && mean_gap > 0 ? recency / mean_gap : kNaN);
  set(kDaysSinceLastSeen, c.events > 0 ? std::max(0.0, (at_ms - c.last_ms) / kDayMs) : kNaN);
  set(kTotalViews, static_cast<double>(c.views));
  set(kTotalCarts, static_cast<double>(c.carts));
  return row;
}

// ---------------------------------------------------------------- training sets

TrainingSet BuildSessionTrainingSet(std::span<const LabeledSession> sessions,
                                    const IntentSignals& signals, int prior_folds,
                                    IntentPriors* priors_out, std::vector<int64_t>* groups_out) {
  TrainingSet set;
  set.feature_names = SessionFeatureNames(std::max(0, signals.SequenceDims()));
  set.x.reserve(sessions.size() * set.feature_names.size());
  set.label.reserve(sessions.size());
  const FoldPriors fp = BuildFoldPriors(sessions, prior_folds, SmoothingOf(priors_out), priors_out);
  if (groups_out != nullptr) groups_out->clear();
  for (size_t i = 0; i < sessions.size(); ++i) {
    const LabeledSession& s = sessions[i];
    set.AddRow(SessionFeatures(s.counters, s.events, s.has_customer ? &s.customer : nullptr,
                               fp.For(i), signals, s.cut_ms),
               s.converted ? 1.0f : 0.0f);
    if (groups_out != nullptr) groups_out->push_back(s.group);
  }
  return set;
}

TrainingSet BuildItemTrainingSet(std::span<const LabeledSession> sessions, int prior_folds,
                                 IntentPriors* priors_out, std::vector<int64_t>* groups_out) {
  TrainingSet set;
  set.feature_names = ItemFeatureNames();
  const FoldPriors fp = BuildFoldPriors(sessions, prior_folds, SmoothingOf(priors_out), priors_out);
  if (groups_out != nullptr) groups_out->clear();
  for (size_t i = 0; i < sessions.size(); ++i) {
    const LabeledSession& s = sessions[i];
    // Distinct items viewed or carted before the cut, in a deterministic order.
    std::set<std::string> items;
    for (const auto& [item, n] : s.counters.item_views) items.insert(item);
    for (const auto& item : s.counters.carted) items.insert(item);
    for (const auto& e : s.events) {
      if (!e.item_id.empty() && (e.type == EventType::kView || e.type == EventType::kAddToCart)) {
        items.insert(e.item_id);
      }
    }
    for (const std::string& item : items) {
      set.AddRow(ItemFeatures(s.counters, s.events, item, s.has_customer ? &s.customer : nullptr,
                              fp.For(i), s.cut_ms),
                 s.bought.contains(item) ? 1.0f : 0.0f);
      if (groups_out != nullptr) groups_out->push_back(s.group);
    }
  }
  return set;
}

// ------------------------------------------------------------- driver phrasing

namespace {

// "3", "2.5", "0.42", "1234": integers without decimals, else up to 2
// significant decimals, trailing zeros dropped.
std::string Num(double v) {
  if (std::isnan(v)) return "?";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  if (std::fabs(v) >= 1e15) {
    std::snprintf(buf, sizeof(buf), "%.3g", v);
    return buf;
  }
  const double r = std::round(v);
  if (std::fabs(v - r) < 1e-6 * std::max(1.0, std::fabs(v)) && std::fabs(r) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", r == 0 ? 0.0 : r);
    return buf;
  }
  const double a = std::fabs(v);
  std::snprintf(buf, sizeof(buf), a >= 100 ? "%.0f" : (a >= 10 ? "%.1f" : "%.2f"), v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

std::string Percent(double share) { return Num(std::round(share * 1000.0) / 10.0) + "%"; }

// 45 s / 12 min / 1.5 h / 3 days ("秒", "分钟", "小时", "天" in Chinese).
std::string Duration(double secs, bool zh) {
  secs = std::max(0.0, secs);
  if (secs < 60) return Num(std::round(secs)) + (zh ? " 秒" : " s");
  if (secs < 3600) return Num(std::round(secs / 60)) + (zh ? " 分钟" : " min");
  if (secs < 86400 * 2) return Num(std::round(secs / 360) / 10) + (zh ? " 小时" : " h");
  return Num(std::round(secs / 8640) / 10) + (zh ? " 天" : " days");
}

std::string Days(double days, bool zh) {
  const double d = std::round(days);
  if (zh) return Num(d) + " 天";
  return Num(d) + (d == 1 ? " day" : " days");
}

// A counted thing: "1 add-to-cart" / "3 add-to-carts" / "no add-to-cart yet",
// "3 次加购" / "尚未加购".
struct CountPhrase {
  const char* en_one;   // "add-to-cart"
  const char* en_many;  // "add-to-carts"
  const char* en_none;  // phrase for zero with a negative contribution
  const char* zh_fmt;   // "{n} 次加购" ("{n}" replaced)
  const char* zh_none;
};

std::string ReplaceN(std::string fmt, const std::string& n) {
  const auto pos = fmt.find("{n}");
  if (pos != std::string::npos) fmt.replace(pos, 3, n);
  return fmt;
}

std::string CountText(const CountPhrase& p, double v, double contribution, bool zh) {
  if (v == 0 && contribution < 0) return zh ? p.zh_none : p.en_none;
  const std::string n = Num(v);
  if (zh) return ReplaceN(p.zh_fmt, n);
  return ReplaceN(v == 1 ? p.en_one : p.en_many, n);
}

using Phrase = std::string (*)(double v, double contribution, bool zh);

const std::map<std::string, CountPhrase, std::less<>>& CountPhrases() {
  static const auto* m = new std::map<std::string, CountPhrase, std::less<>>{
      {"n_events", {"{n} action", "{n} actions", "no actions yet", "{n} 次操作", "尚无操作"}},
      {"n_views",
       {"{n} product view", "{n} product views", "no product views yet", "浏览商品 {n} 次",
        "尚未浏览商品"}},
      {"n_clicks", {"{n} click", "{n} clicks", "no clicks yet", "{n} 次点击", "尚无点击"}},
      {"n_carts",
       {"{n} add-to-cart", "{n} add-to-carts", "no add-to-cart yet", "{n} 次加购", "尚未加购"}},
      {"n_removes",
       {"{n} removal from the cart", "{n} removals from the cart", "nothing removed from the cart",
        "{n} 次移出购物车", "未移出购物车"}},
      {"n_searches", {"{n} search", "{n} searches", "no searches", "{n} 次搜索", "未搜索"}},
      {"n_purchases",
       {"{n} purchase in this session", "{n} purchases in this session",
        "no purchase in this session yet", "本次会话购买 {n} 次", "本次会话尚未购买"}},
      {"net_cart",
       {"{n} item still in the cart", "{n} items still in the cart", "cart is empty",
        "购物车中有 {n} 件商品", "购物车为空"}},
      {"n_distinct_items",
       {"viewed {n} item", "viewed {n} different items", "no items viewed yet",
        "浏览了 {n} 件不同商品", "尚未浏览商品"}},
      {"n_distinct_categories",
       {"browsed {n} category", "browsed {n} categories", "no category browsed yet",
        "浏览了 {n} 个类目", "尚未浏览类目"}},
      {"max_item_views",
       {"viewed one item {n} time", "viewed one item {n} times", "no repeat views",
        "同一商品最多浏览 {n} 次", "无重复浏览"}},
      {"events_last_5min",
       {"{n} action in the last 5 minutes", "{n} actions in the last 5 minutes",
        "no actions in the last 5 minutes", "最近 5 分钟 {n} 次操作", "最近 5 分钟无操作"}},
      {"prior_sessions",
       {"{n} previous visit", "{n} previous visits", "first visit", "此前访问 {n} 次", "首次访问"}},
      {"prior_buying_sessions",
       {"bought in {n} previous visit", "bought in {n} previous visits", "never bought before",
        "此前 {n} 次访问有购买", "此前从未购买"}},
      {"prior_purchases",
       {"{n} previous purchase", "{n} previous purchases", "no previous purchases",
        "此前购买 {n} 次", "此前无购买"}},
      {"frequency",
       {"bought on {n} day", "bought on {n} different days", "never bought",
        "在 {n} 个不同日期购买过", "从未购买"}},
      {"purchases", {"{n} purchase", "{n} purchases", "no purchases", "购买 {n} 次", "无购买"}},
      {"sessions", {"{n} visit", "{n} visits", "no visits", "访问 {n} 次", "无访问"}},
      {"buying_sessions",
       {"{n} visit with a purchase", "{n} visits with a purchase", "no visit with a purchase",
        "{n} 次访问有购买", "没有访问有购买"}},
      {"purchase_days_30d",
       {"bought on {n} day in the last 30 days", "bought on {n} days in the last 30 days",
        "no purchase in the last 30 days", "近 30 天有 {n} 天购买", "近 30 天无购买"}},
      {"purchase_days_90d",
       {"bought on {n} day in the last 90 days", "bought on {n} days in the last 90 days",
        "no purchase in the last 90 days", "近 90 天有 {n} 天购买", "近 90 天无购买"}},
      {"sessions_30d",
       {"{n} visit in the last 30 days", "{n} visits in the last 30 days",
        "no visits in the last 30 days", "近 30 天访问 {n} 次", "近 30 天无访问"}},
      {"sessions_90d",
       {"{n} visit in the last 90 days", "{n} visits in the last 90 days",
        "no visits in the last 90 days", "近 90 天访问 {n} 次", "近 90 天无访问"}},
      {"total_views",
       {"{n} product view in total", "{n} product views in total", "no product views so far",
        "累计浏览商品 {n} 次", "尚无浏览"}},
      {"total_carts",
       {"{n} add-to-cart in total", "{n} add-to-carts in total", "no add-to-cart so far",
        "累计加购 {n} 次", "从未加购"}},
      {"item_views",
       {"viewed this item {n} time", "viewed this item {n} times", "item not viewed yet",
        "浏览该商品 {n} 次", "尚未浏览该商品"}},
      {"item_cart_adds",
       {"added to the cart {n} time", "added to the cart {n} times", "not added to the cart yet",
        "加购 {n} 次", "尚未加购该商品"}},
      {"item_removed",
       {"removed from the cart {n} time", "removed from the cart {n} times",
        "never removed from the cart", "移出购物车 {n} 次", "未移出购物车"}},
  };
  return *m;
}

std::string Pick(bool zh, std::string en, std::string zh_text) {
  return zh ? std::move(zh_text) : std::move(en);
}

const std::map<std::string, Phrase, std::less<>>& OtherPhrases() {
  static const auto* m = new std::map<std::string, Phrase, std::less<>>{
      {"has_cart",
       [](double v, double, bool zh) {
         return v >= 0.5 ? Pick(zh, "added to the cart", "已加购")
                         : Pick(zh, "no add-to-cart yet", "尚未加购");
       }},
      {"repeat_view_share",
       [](double v, double, bool zh) {
         return Pick(zh, Percent(v) + " repeat views", "重复浏览占 " + Percent(v));
       }},
      {"duration_s",
       [](double v, double, bool zh) {
         return Pick(zh, Duration(v, false) + " in session", "会话已持续 " + Duration(v, true));
       }},
      {"mean_gap_s",
       [](double v, double, bool zh) {
         return Pick(zh, Duration(v, false) + " between actions on average",
                     "平均操作间隔 " + Duration(v, true));
       }},
      {"max_gap_s",
       [](double v, double, bool zh) {
         return Pick(zh, "longest pause " + Duration(v, false), "最长停顿 " + Duration(v, true));
       }},
      {"secs_since_last_event",
       [](double v, double, bool zh) {
         return Pick(zh, "last action " + Duration(v, false) + " ago",
                     "最近一次操作在 " + Duration(v, true) + "前");
       }},
      {"last_gap_s",
       [](double v, double, bool zh) {
         return Pick(zh, "last pause " + Duration(v, false), "最近一次停顿 " + Duration(v, true));
       }},
      {"cart_per_view",
       [](double v, double, bool zh) {
         return Pick(zh, Num(v) + " add-to-carts per product view",
                     "每次浏览加购 " + Num(v) + " 次");
       }},
      {"price_mean",
       [](double v, double, bool zh) {
         return Pick(zh, "average price " + Num(std::expm1(v)), "平均价格 " + Num(std::expm1(v)));
       }},
      {"price_cv",
       [](double v, double, bool zh) {
         return Pick(zh, "price variation " + Percent(v), "价格波动 " + Percent(v));
       }},
      {"price_spread",
       [](double v, double, bool zh) {
         return Pick(zh, "prices differ up to " + Num(std::exp(v)) + "x",
                     "价格相差至 " + Num(std::exp(v)) + " 倍");
       }},
      {"cart_price_rel",
       [](double v, double, bool zh) {
         return Pick(zh, "carted items cost " + Num(v) + "x the viewed average",
                     "加购商品价格为浏览均价的 " + Num(v) + " 倍");
       }},
      {"top_category_share",
       [](double v, double, bool zh) {
         return Pick(zh, Percent(v) + " of views in one category",
                     Percent(v) + " 的浏览集中在一个类目");
       }},
      {"hour_of_day",
       [](double v, double, bool zh) {
         char buf[32];
         std::snprintf(buf, sizeof(buf), "%02d:00", static_cast<int>(v));
         return Pick(zh, std::string("at ") + buf + " UTC", std::string("UTC 时间 ") + buf);
       }},
      {"day_of_week",
       [](double v, double, bool zh) {
         static const char* kEn[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                     "Friday", "Saturday", "Sunday"};
         static const char* kZh[] = {"星期一", "星期二", "星期三", "星期四",
                                     "星期五", "星期六", "星期日"};
         const int d = static_cast<int>(v);
         if (d < 0 || d > 6) return Pick(zh, "day of week " + Num(v), "星期 " + Num(v));
         return Pick(zh, std::string("on a ") + kEn[d], kZh[d]);
       }},
      {"category_conv",
       [](double v, double, bool zh) {
         return Pick(zh, "browsed category converts at " + Percent(v),
                     "所浏览类目的转化率 " + Percent(v));
       }},
      {"item_conv_max",
       [](double v, double, bool zh) {
         return Pick(zh, "viewed items convert at up to " + Percent(v),
                     "所浏览商品的转化率最高 " + Percent(v));
       }},
      {"item_conv_mean",
       [](double v, double, bool zh) {
         return Pick(zh, "viewed items convert at " + Percent(v) + " on average",
                     "所浏览商品的平均转化率 " + Percent(v));
       }},
      {"cart_item_buy_max",
       [](double v, double, bool zh) {
         return Pick(zh, "carted item bought by " + Percent(v) + " of viewers",
                     "加购商品的购买率 " + Percent(v));
       }},
      {"text_similarity",
       [](double v, double, bool zh) {
         return v >= 0.5 ? Pick(zh, "viewed similar items (similarity " + Num(v) + ")",
                                "浏览的商品相似 (相似度 " + Num(v) + ")")
                         : Pick(zh, "viewed varied items (similarity " + Num(v) + ")",
                                "浏览的商品差异较大 (相似度 " + Num(v) + ")");
       }},
      {"is_returning",
       [](double v, double, bool zh) {
         return v >= 0.5 ? Pick(zh, "returning customer", "老客户")
                         : Pick(zh, "new visitor", "新访客");
       }},
      {"prior_conv_rate",
       [](double v, double, bool zh) {
         return Pick(zh, "bought in " + Percent(v) + " of previous visits",
                     "此前 " + Percent(v) + " 的访问有购买");
       }},
      {"conv_rate",
       [](double v, double, bool zh) {
         return Pick(zh, "bought in " + Percent(v) + " of visits", Percent(v) + " 的访问有购买");
       }},
      {"days_since_last_purchase",
       [](double v, double, bool zh) {
         if (v < 1) return Pick(zh, "last purchase today", "今天购买过");
         return Pick(zh, "last purchase " + Days(v, false) + " ago",
                     "上次购买在 " + Days(v, true) + "前");
       }},
      {"recency_days",
       [](double v, double, bool zh) {
         if (v < 1) return Pick(zh, "last purchase today", "今天购买过");
         return Pick(zh, "last purchase " + Days(v, false) + " ago",
                     "上次购买在 " + Days(v, true) + "前");
       }},
      {"days_since_first_seen",
       [](double v, double, bool zh) {
         if (v < 1) return Pick(zh, "first seen today", "今天首次访问");
         return Pick(zh, "first seen " + Days(v, false) + " ago",
                     "首次访问在 " + Days(v, true) + "前");
       }},
      {"tenure_days",
       [](double v, double, bool zh) {
         if (v < 1) return Pick(zh, "first seen today", "今天首次访问");
         return Pick(zh, "customer for " + Days(v, false), "成为顾客 " + Days(v, true));
       }},
      {"days_since_last_seen",
       [](double v, double, bool zh) {
         if (v < 1) return Pick(zh, "seen today", "今天访问过");
         return Pick(zh, "last seen " + Days(v, false) + " ago",
                     "上次访问在 " + Days(v, true) + "前");
       }},
      {"monetary_log",
       [](double v, double, bool zh) {
         const double spent = std::expm1(v);
         if (spent <= 0) return Pick(zh, "no spending so far", "尚无消费");
         return Pick(zh, "spent " + Num(spent) + " so far", "累计消费 " + Num(spent));
       }},
      {"mean_purchase_gap_days",
       [](double v, double, bool zh) {
         return Pick(zh, "buys every " + Days(v, false) + " on average",
                     "平均每 " + Days(v, true) + "购买一次");
       }},
      {"recency_over_gap",
       [](double v, double, bool zh) {
         return Pick(zh, "last purchase " + Num(v) + "x the usual gap ago",
                     "距上次购买已达平均间隔的 " + Num(v) + " 倍");
       }},
      {"item_carted",
       [](double v, double, bool zh) {
         return v >= 0.5 ? Pick(zh, "in the cart", "已在购物车中")
                         : Pick(zh, "not in the cart", "不在购物车中");
       }},
      {"item_is_last_viewed",
       [](double v, double, bool zh) {
         return v >= 0.5 ? Pick(zh, "the last item viewed", "最后浏览的商品")
                         : Pick(zh, "not the last item viewed", "不是最后浏览的商品");
       }},
      {"item_first_view_pos",
       [](double v, double, bool zh) {
         return Pick(zh, "first viewed " + Percent(v) + " into the session",
                     "在会话进行到 " + Percent(v) + " 时首次浏览");
       }},
      {"secs_since_item_last",
       [](double v, double, bool zh) {
         return Pick(zh, "item last seen " + Duration(v, false) + " ago",
                     "该商品最近一次互动在 " + Duration(v, true) + "前");
       }},
      {"item_price_rel",
       [](double v, double, bool zh) {
         return Pick(zh, "priced " + Num(v) + "x the session average",
                     "价格为本次浏览均价的 " + Num(v) + " 倍");
       }},
      {"item_buy_rate",
       [](double v, double, bool zh) {
         return Pick(zh, "bought by " + Percent(v) + " of viewers", Percent(v) + " 的浏览者购买");
       }},
      {"item_session_rate",
       [](double v, double, bool zh) {
         return Pick(zh, "sessions viewing it convert at " + Percent(v),
                     "浏览该商品的会话转化率 " + Percent(v));
       }},
      {"item_category_conv",
       [](double v, double, bool zh) {
         return Pick(zh, "its category converts at " + Percent(v), "所属类目转化率 " + Percent(v));
       }},
      {"item_category_share",
       [](double v, double, bool zh) {
         return Pick(zh, Percent(v) + " of views in its category",
                     Percent(v) + " 的浏览在其所属类目");
       }},
      {"item_view_share",
       [](double v, double, bool zh) {
         return Pick(zh, Percent(v) + " of the session's views", "占本次会话浏览的 " + Percent(v));
       }},
  };
  return *m;
}

// Phrases for a missing (NaN) value where "unknown" would read badly.
const char* MissingPhrase(std::string_view feature, bool zh) {
  if (feature == "days_since_last_purchase" || feature == "recency_days") {
    return zh ? "此前从未购买" : "never purchased before";
  }
  if (feature == "mean_purchase_gap_days" || feature == "recency_over_gap") {
    return zh ? "购买次数太少" : "too few purchases for a pattern";
  }
  if (feature == "prior_conv_rate" || feature == "days_since_first_seen") {
    return zh ? "无历史记录" : "no history";
  }
  if (feature == "text_similarity") return zh ? "商品相似度未知" : "item similarity unknown";
  if (feature == "last_gap_s" || feature == "mean_gap_s") {
    return zh ? "只有一次操作" : "a single action so far";
  }
  return nullptr;
}

}  // namespace

std::string DescribeDriver(const Driver& driver, std::string_view lang) {
  const bool zh = lang.substr(0, 2) == "zh";
  const std::string& f = driver.feature;
  const double v = driver.value;
  if (f.rfind("seq_", 0) == 0) return zh ? "浏览序列模式" : "browsing sequence pattern";
  const auto& counts = CountPhrases();
  const auto& others = OtherPhrases();
  const bool known = counts.contains(f) || others.contains(f);
  if (!std::isfinite(v)) {
    if (const char* p = MissingPhrase(f, zh)) return p;
    return f + (zh ? " 未知" : " unknown");
  }
  if (!known) return f + " = " + Num(v);
  if (const auto it = counts.find(f); it != counts.end()) {
    return CountText(it->second, v, driver.contribution, zh);
  }
  return others.find(f)->second(v, driver.contribution, zh);
}

// ---------------------------------------------------------------- EmbeddingIntentSignals

double EmbeddingIntentSignals::TextSimilarity(std::span<const online::SessionEvent> events) const {
  if (!lookup_) return std::numeric_limits<double>::quiet_NaN();
  constexpr size_t kMaxItems = 50;
  std::vector<const std::string*> items;  // consecutive distinct, newest kMaxItems
  for (size_t i = events.size(); i-- > 0 && items.size() < kMaxItems;) {
    const online::SessionEvent& e = events[i];
    if (e.item_id.empty()) continue;
    if (e.type != store::EventType::kView && e.type != store::EventType::kClick &&
        e.type != store::EventType::kAddToCart) {
      continue;
    }
    if (!items.empty() && *items.back() == e.item_id) continue;
    items.push_back(&e.item_id);
  }
  double sum = 0;
  int pairs = 0;
  std::span<const float> prev;
  for (size_t i = items.size(); i-- > 0;) {
    std::span<const float> v = lookup_(*items[i]);
    if (!v.empty() && !prev.empty() && v.size() == prev.size()) {
      double dot = 0, na = 0, nb = 0;
      for (size_t d = 0; d < v.size(); ++d) {
        dot += double{v[d]} * prev[d];
        na += double{v[d]} * v[d];
        nb += double{prev[d]} * prev[d];
      }
      if (na > 0 && nb > 0) {
        sum += dot / std::sqrt(na * nb);
        ++pairs;
      }
    }
    if (!v.empty()) prev = v;
  }
  return pairs == 0 ? std::numeric_limits<double>::quiet_NaN() : sum / pairs;
}

}  // namespace souk::rank
