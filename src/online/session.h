// Live session state: the plain data types shared by the session tracker
// (online/session_tracker.h), the intent features (rank/intent_features.h), the
// intent evaluations (eval/) and the recommender.
//
//   SessionEvent      one shopper action with the item's category, brand and price
//   SessionCounters   per-session counters, updated one event at a time (O(1) per
//                     event, except the distinct-item/category sets)
//   CustomerCounters  per-user counters across sessions (recency, frequency,
//                     monetary value, purchase days)
//   SessionSnapshot   what a reader gets: keys, counters, the newest events
//
// Counters stay exact however long a session gets; only the event list is capped
// (the newest `max_events` are kept). Events may arrive out of order: the counters
// use max(0, gap) for gaps and the event list stays sorted by time.
//
// Thread-safety: plain values; no internal locking.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "store/types.h"

namespace souk::online {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct SessionEvent {
  int64_t ts_ms = 0;
  store::EventType type = store::EventType::kView;
  std::string item_id;   // external id; "" for searches
  std::string category;  // the item's leaf category path ("" unknown)
  std::string brand;     // "" unknown
  double price = kNaN;   // unit price (the event's, else the catalog's); NaN unknown
  double quantity = kNaN;
};

// Counts for one session. Add() is the only mutator.
struct SessionCounters {
  int64_t events = 0, views = 0, clicks = 0, carts = 0, removes = 0, purchases = 0,
          searches = 0, impressions = 0, other = 0;
  int64_t first_ms = 0, last_ms = 0;  // time span of the events seen (0 when none)
  double gap_sum_s = 0, gap_max_s = 0;  // gaps between consecutive arrivals (>= 0)
  int64_t gaps = 0;
  int64_t repeat_views = 0;     // views of an item already viewed in this session
  int64_t max_item_views = 0;   // most views of one item
  double price_n = 0, price_sum = 0, price_sumsq = 0;
  double price_min = kNaN, price_max = kNaN;
  double cart_price_n = 0, cart_price_sum = 0;
  double purchase_value = 0;    // sum price * quantity (quantity 1 when unknown)
  std::unordered_map<std::string, int32_t> item_views;      // item -> views
  std::unordered_map<std::string, int32_t> category_views;  // category -> views
  std::unordered_set<std::string> carted;                   // items added (and not removed)

  void Add(const SessionEvent& e) {
    using store::EventType;
    if (events == 0) {
      first_ms = last_ms = e.ts_ms;
    } else {
      const double gap = std::max<double>(0.0, static_cast<double>(e.ts_ms - last_ms) / 1000.0);
      gap_sum_s += gap;
      gap_max_s = std::max(gap_max_s, gap);
      ++gaps;
      first_ms = std::min(first_ms, e.ts_ms);
      last_ms = std::max(last_ms, e.ts_ms);
    }
    ++events;
    switch (e.type) {
      case EventType::kView: {
        ++views;
        if (!e.item_id.empty()) {
          const int32_t n = ++item_views[e.item_id];
          if (n > 1) ++repeat_views;
          max_item_views = std::max<int64_t>(max_item_views, n);
        }
        if (!e.category.empty()) ++category_views[e.category];
        break;
      }
      case EventType::kClick: ++clicks; break;
      case EventType::kAddToCart:
        ++carts;
        if (!e.item_id.empty()) carted.insert(e.item_id);
        if (std::isfinite(e.price)) {
          cart_price_n += 1;
          cart_price_sum += e.price;
        }
        break;
      case EventType::kRemoveFromCart:
        ++removes;
        if (!e.item_id.empty()) carted.erase(e.item_id);
        break;
      case EventType::kPurchase:
        ++purchases;
        if (std::isfinite(e.price)) {
          purchase_value += e.price * (std::isfinite(e.quantity) && e.quantity > 0 ? e.quantity : 1.0);
        }
        break;
      case EventType::kSearch: ++searches; break;
      case EventType::kImpression: ++impressions; break;
      default: ++other; break;
    }
    if (std::isfinite(e.price) && e.price >= 0 &&
        (e.type == EventType::kView || e.type == EventType::kAddToCart ||
         e.type == EventType::kClick)) {
      price_n += 1;
      price_sum += e.price;
      price_sumsq += e.price * e.price;
      price_min = std::isnan(price_min) ? e.price : std::min(price_min, e.price);
      price_max = std::isnan(price_max) ? e.price : std::max(price_max, e.price);
    }
  }
  int64_t distinct_items() const { return static_cast<int64_t>(item_views.size()); }
  int64_t distinct_categories() const { return static_cast<int64_t>(category_views.size()); }
  double duration_s() const { return events == 0 ? 0.0 : (last_ms - first_ms) / 1000.0; }
};

// Per-user counters across sessions. AddEvent() for every event of the user;
// `new_session` is true for the first event of a session.
struct CustomerCounters {
  static constexpr size_t kMaxDays = 1000;  // purchase_days / session_days keep the newest
  int64_t sessions = 0, buying_sessions = 0;
  int64_t events = 0, views = 0, carts = 0, purchases = 0;
  double monetary = 0;           // sum price * quantity of purchases
  int64_t first_ms = 0, last_ms = 0, last_purchase_ms = 0;  // 0 = never
  std::vector<int32_t> purchase_days;  // distinct UTC days (ms / 86400000) with a purchase, ascending
  std::vector<int32_t> session_days;   // UTC day of each session start, ascending (repeats allowed)

  void AddEvent(const SessionEvent& e, bool new_session, bool session_first_purchase) {
    using store::EventType;
    const int32_t day = static_cast<int32_t>(e.ts_ms >= 0 ? e.ts_ms / 86400000 : -1);
    if (events == 0) first_ms = last_ms = e.ts_ms;
    first_ms = std::min(first_ms, e.ts_ms);
    last_ms = std::max(last_ms, e.ts_ms);
    ++events;
    if (new_session) {
      ++sessions;
      InsertDay(session_days, day, /*distinct=*/false);
    }
    if (e.type == EventType::kView) ++views;
    if (e.type == EventType::kAddToCart) ++carts;
    if (e.type == EventType::kPurchase) {
      ++purchases;
      if (session_first_purchase) ++buying_sessions;
      if (std::isfinite(e.price)) {
        monetary += e.price * (std::isfinite(e.quantity) && e.quantity > 0 ? e.quantity : 1.0);
      }
      last_purchase_ms = std::max(last_purchase_ms, e.ts_ms);
      InsertDay(purchase_days, day, /*distinct=*/true);
    }
  }

 private:
  static void InsertDay(std::vector<int32_t>& days, int32_t day, bool distinct) {
    auto it = std::upper_bound(days.begin(), days.end(), day);
    if (distinct && it != days.begin() && *(it - 1) == day) return;
    days.insert(it, day);
    if (days.size() > kMaxDays) days.erase(days.begin());
  }
};

// What readers of the tracker get (a copy).
struct SessionSnapshot {
  std::string key;         // the tracker's session key (the session id, or a derived one)
  std::string user_id;     // "" anonymous
  std::string session_id;  // as given by the client ("" when derived from inactivity)
  SessionCounters counters;
  std::vector<SessionEvent> events;  // the newest events, sorted by ts_ms (ties: arrival order)
  bool open = true;                  // false once idle longer than the timeout
};

}  // namespace souk::online
