#include "rank/intent_sessions.h"

#include <algorithm>
#include <numeric>
#include <unordered_set>
#include <utility>

#include "common/hash.h"

namespace souk::rank {

using store::EventType;

IntentSessionData BuildIntentSessions(
    std::vector<IntentRawEvent> events,
    const std::unordered_map<std::string, bool>* converted_override) {
  IntentSessionData out;
  // Order: by session, then time, then input order.
  std::vector<size_t> order(events.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (events[a].session != events[b].session) return events[a].session < events[b].session;
    return events[a].event.ts_ms < events[b].event.ts_ms;
  });

  struct Span {
    size_t begin, end;  // in `order`
    int64_t start;
  };
  std::vector<Span> spans;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && events[order[j]].session == events[order[i]].session) ++j;
    spans.push_back({i, j, events[order[i]].event.ts_ms});
    i = j;
  }
  std::sort(spans.begin(), spans.end(), [&](const Span& a, const Span& b) {
    if (a.start != b.start) return a.start < b.start;
    return events[order[a.begin]].session < events[order[b.begin]].session;
  });

  // Customer counters: every event in time order, applied before the sessions
  // that start after it.
  std::vector<size_t> by_time(events.size());
  std::iota(by_time.begin(), by_time.end(), 0);
  std::stable_sort(by_time.begin(), by_time.end(), [&](size_t a, size_t b) {
    return events[a].event.ts_ms < events[b].event.ts_ms;
  });
  std::unordered_map<std::string, online::CustomerCounters> customers;
  std::unordered_map<std::string, int64_t> session_seen_purchase;  // session -> purchases so far
  std::unordered_set<std::string> session_started;
  size_t applied = 0;

  for (const Span& s : spans) {
    while (applied < by_time.size() && events[by_time[applied]].event.ts_ms < s.start) {
      const IntentRawEvent& e = events[by_time[applied++]];
      if (e.user.empty()) continue;
      const bool new_session = session_started.insert(e.session).second;
      bool first_purchase = false;
      if (e.event.type == EventType::kPurchase) {
        first_purchase = session_seen_purchase[e.session]++ == 0;
      }
      customers[e.user].AddEvent(e.event, new_session, first_purchase);
    }
    const IntentRawEvent& first = events[order[s.begin]];
    if (first.event.type == EventType::kPurchase) {
      ++out.dropped_first_purchase;
      continue;
    }
    LabeledSession ls;
    bool any_purchase = false;
    for (size_t k = s.begin; k < s.end; ++k) {
      const IntentRawEvent& e = events[order[k]];
      if (e.event.type == EventType::kPurchase) {
        any_purchase = true;
        if (!e.event.item_id.empty()) ls.bought.insert(e.event.item_id);
        continue;
      }
      if (any_purchase) continue;  // after the first purchase: not visible to features
      ls.counters.Add(e.event);
      ls.events.push_back(e.event);
    }
    bool label = any_purchase;
    if (converted_override != nullptr) {
      auto it = converted_override->find(first.session);
      if (it == converted_override->end()) {
        ++out.unlabeled;
        continue;
      }
      label = it->second;
    }
    ls.converted = label;
    ls.cut_ms = ls.events.empty() ? s.start : ls.events.back().ts_ms;
    if (!first.user.empty()) {
      auto it = customers.find(first.user);
      if (it != customers.end() && it->second.events > 0) {
        ls.customer = it->second;
        ls.has_customer = true;
      }
      ls.group = static_cast<int64_t>(Fnv1a64(first.user) >> 1);
    } else {
      ls.group = static_cast<int64_t>(Fnv1a64(first.session) >> 1);
    }
    out.sessions.push_back(std::move(ls));
    out.ids.push_back(first.session);
    out.start_ms.push_back(s.start);
  }
  return out;
}

}  // namespace souk::rank
