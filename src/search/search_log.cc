#include "search/search_log.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <unordered_map>

namespace souk::search {
namespace {

struct Ctx {
  std::string page;
  int position = 0;
};

Ctx ParseContext(const std::string& json) {
  Ctx c;
  if (json.empty()) return c;
  const nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
  if (!j.is_object()) return c;
  if (auto it = j.find("page"); it != j.end() && it->is_string()) c.page = it->get<std::string>();
  if (auto it = j.find("position"); it != j.end() && it->is_number_integer()) {
    c.position = it->get<int>();
  }
  return c;
}

}  // namespace

StatusOr<std::vector<LoggedSearch>> ReadSearchLog(store::Snapshot& snapshot,
                                                  const SearchCatalog& catalog) {
  // Dense store ids -> docs / external user ids.
  std::unordered_map<int64_t, uint32_t> item_doc;
  RETURN_IF_ERROR(snapshot.ForEachItem([&](const store::StoredItem& it) {
    if (auto d = catalog.Find(it.item.external_id)) item_doc[it.id] = *d;
    return true;
  }));
  ASSIGN_OR_RETURN(std::vector<std::string> users, snapshot.UserIds());

  std::vector<LoggedSearch> out;
  // Open search per session (index into out), and the session's searches for
  // later cart/purchase labels.
  std::unordered_map<std::string, size_t> open;
  std::unordered_map<std::string, std::vector<size_t>> by_session;
  RETURN_IF_ERROR(snapshot.ForEachEvent([&](const store::StoredEvent& e) {
    if (e.session.empty()) return true;
    if (e.type == store::EventType::kSearch) {
      if (e.query.empty()) return true;
      LoggedSearch s;
      s.query = e.query;
      s.session = e.session;
      s.timestamp_ms = e.timestamp_ms;
      if (e.user > 0 && static_cast<size_t>(e.user) < users.size()) s.user = users[e.user];
      open[e.session] = out.size();
      by_session[e.session].push_back(out.size());
      out.push_back(std::move(s));
      return true;
    }
    auto doc_it = item_doc.find(e.item);
    if (doc_it == item_doc.end()) return true;
    const uint32_t doc = doc_it->second;
    if (e.type == store::EventType::kImpression || e.type == store::EventType::kClick) {
      auto o = open.find(e.session);
      if (o == open.end()) return true;
      const Ctx c = ParseContext(e.context);
      if (c.page != "search") return true;
      LoggedSearch& s = out[o->second];
      auto r = std::find_if(s.shown.begin(), s.shown.end(),
                            [&](const LoggedResult& x) { return x.doc == doc; });
      if (r == s.shown.end()) {
        s.shown.push_back({doc, c.position, 0});
        r = s.shown.end() - 1;
      }
      if (r->position == 0) r->position = c.position;
      if (e.type == store::EventType::kClick) r->label = std::max(r->label, 1);
      return true;
    }
    if (e.type == store::EventType::kAddToCart || e.type == store::EventType::kPurchase) {
      auto bs = by_session.find(e.session);
      if (bs == by_session.end()) return true;
      const int label = e.type == store::EventType::kPurchase ? 3 : 2;
      for (size_t idx : bs->second) {
        for (LoggedResult& r : out[idx].shown) {
          if (r.doc == doc && r.label >= 1) r.label = std::max(r.label, label);
        }
      }
    }
    return true;
  }));
  return out;
}

std::vector<double> EstimatePropensity(const std::vector<LoggedSearch>& log, int max_position,
                                       double min_propensity) {
  std::vector<double> shown(max_position, 0), clicked(max_position, 0);
  for (const LoggedSearch& s : log) {
    for (const LoggedResult& r : s.shown) {
      if (r.position < 1 || r.position > max_position) continue;
      shown[r.position - 1] += 1;
      clicked[r.position - 1] += r.label >= 1 ? 1 : 0;
    }
  }
  std::vector<double> p(max_position, 1.0);
  const double ctr1 = shown[0] > 0 ? clicked[0] / shown[0] : 0;
  double last = 1.0;
  for (int k = 0; k < max_position; ++k) {
    double v = last;
    if (ctr1 > 0 && shown[k] >= 30) v = std::min(last, (clicked[k] / shown[k]) / ctr1);
    v = std::clamp(v, min_propensity, 1.0);
    p[k] = v;
    last = v;
  }
  return p;
}

}  // namespace souk::search
