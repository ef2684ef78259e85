// ComputeQuality: one pass over items, one over events, then summaries.
#include "ingest/quality.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <queue>
#include <unordered_map>

#include "ingest/quality_internal.h"

namespace souk::quality {

using store::EventType;
using store::StoredEvent;
using store::StoredItem;

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo: return "info";
    case Severity::kWarn: return "warn";
    case Severity::kError: return "error";
  }
  return "info";
}

double FieldQuality::Completeness() const { return internal::Ratio(present, applicable); }
double FieldQuality::Validity() const {
  if (rule.empty()) return std::numeric_limits<double>::quiet_NaN();
  return internal::Ratio(valid, present);
}

double Gini(std::vector<int64_t> counts) {
  const size_t n = counts.size();
  if (n == 0) return 0;
  std::sort(counts.begin(), counts.end());
  long double total = 0, weighted = 0;
  for (size_t i = 0; i < n; ++i) {
    total += counts[i];
    weighted += static_cast<long double>(i + 1) * counts[i];
  }
  if (total <= 0) return 0;
  const long double g = 2 * weighted / (n * total) - static_cast<long double>(n + 1) / n;
  return static_cast<double>(std::max<long double>(0, g));
}

double TopShare(std::vector<int64_t> counts, double fraction) {
  if (counts.empty()) return 0;
  std::sort(counts.begin(), counts.end(), std::greater<>());
  long double total = 0;
  for (int64_t c : counts) total += c;
  if (total <= 0) return 0;
  size_t k = static_cast<size_t>(std::ceil(fraction * static_cast<double>(counts.size()) - 1e-9));
  k = std::clamp<size_t>(k, 1, counts.size());
  long double top = 0;
  for (size_t i = 0; i < k; ++i) top += counts[i];
  return static_cast<double>(top / total);
}

namespace internal {

uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void FlatU64Map::Rehash(size_t capacity) {
  std::vector<uint64_t> old_keys = std::move(keys_);
  std::vector<int64_t> old_values = std::move(values_);
  keys_.assign(capacity, kEmpty);
  values_.assign(capacity, 0);
  size_ = 0;
  for (size_t i = 0; i < old_keys.size(); ++i) {
    if (old_keys[i] != kEmpty) InsertMin(old_keys[i], old_values[i]);
  }
}

size_t FlatU64Map::Slot(uint64_t key) const {
  const size_t mask = keys_.size() - 1;
  size_t i = Mix64(key) & mask;
  while (keys_[i] != kEmpty && keys_[i] != key) i = (i + 1) & mask;
  return i;
}

void FlatU64Map::InsertMin(uint64_t key, int64_t value) {
  if ((size_ + 1) * 2 > keys_.size()) Rehash(keys_.size() * 2);
  const size_t i = Slot(key);
  if (keys_[i] == kEmpty) {
    keys_[i] = key;
    values_[i] = value;
    ++size_;
  } else if (value < values_[i]) {
    values_[i] = value;
  }
}

const int64_t* FlatU64Map::Find(uint64_t key) const {
  const size_t i = Slot(key);
  return keys_[i] == kEmpty ? nullptr : &values_[i];
}

namespace {
uint64_t HashOptional(const std::optional<double>& v) {
  if (!v) return 0x5bd1e995ULL;
  double d = *v;
  if (d == 0) d = 0;  // -0 == 0
  return Mix64(std::bit_cast<uint64_t>(d));
}
uint64_t Combine(uint64_t h, uint64_t v) { return Mix64(h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2))); }
}  // namespace

uint64_t EventKeyHash(const StoredEvent& e) {
  uint64_t h = Mix64(static_cast<uint64_t>(e.timestamp_ms));
  h = Combine(h, static_cast<uint64_t>(e.user));
  h = Combine(h, std::hash<std::string_view>{}(e.session));
  h = Combine(h, static_cast<uint64_t>(e.item));
  h = Combine(h, static_cast<uint64_t>(e.type));
  h = Combine(h, std::hash<std::string_view>{}(e.query));
  h = Combine(h, HashOptional(e.value));
  h = Combine(h, HashOptional(e.quantity));
  h = Combine(h, HashOptional(e.price));
  h = Combine(h, std::hash<std::string_view>{}(e.context));
  return h;
}

int64_t CountRepeats(std::vector<uint64_t>* hashes) {
  std::sort(hashes->begin(), hashes->end());
  int64_t repeats = 0;
  for (size_t i = 1; i < hashes->size(); ++i) {
    if ((*hashes)[i] == (*hashes)[i - 1]) ++repeats;
  }
  return repeats;
}

std::string NormalizeTitle(std::string_view title) {
  std::string out;
  out.reserve(title.size());
  bool space = false;
  for (unsigned char c : title) {
    if (c >= 0x80 || std::isalnum(c)) {
      if (space && !out.empty()) out.push_back(' ');
      space = false;
      out.push_back(c < 0x80 ? static_cast<char>(std::tolower(c)) : static_cast<char>(c));
    } else {
      space = true;
    }
  }
  return out;
}

}  // namespace internal

namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kMaxTimeBits = int64_t{1} << 27;  // 16 MB occupancy bitmap
constexpr int kMinCategoryItems = 5;
constexpr int64_t kExtremeSessionEvents = 500;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

std::string Percent(double share) {
  if (std::isnan(share)) return "n/a";
  return fmt::format("{:.1f}%", share * 100);
}

bool IsCurrencyCode(std::string_view s) {
  return s.size() == 3 && std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool IsLanguageTag(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && s[i] >= 'a' && s[i] <= 'z') ++i;
  if (i < 2 || i > 3) return false;
  if (i == s.size()) return true;
  if (s[i] != '-' && s[i] != '_') return false;
  if (i + 1 == s.size()) return false;
  for (size_t j = i + 1; j < s.size(); ++j) {
    if (!std::isalnum(static_cast<unsigned char>(s[j])) && s[j] != '-') return false;
  }
  return true;
}

// Presence and validity of a JSON text that should be a non-empty object or array.
void CheckJson(const std::string& text, bool want_object, FieldQuality* f) {
  ++f->applicable;
  if (IsBlank(text)) return;
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    ++f->present;
    return;
  }
  if (want_object ? j.is_object() : j.is_array()) {
    if (j.empty()) return;
    ++f->present;
    bool ok = true;
    if (!want_object) {
      for (const auto& v : j) ok = ok && v.is_string();
    }
    if (ok) ++f->valid;
  } else {
    if (!j.is_null()) ++f->present;
  }
}

void Count(FieldQuality* f, bool present, bool valid = true) {
  ++f->applicable;
  if (present) {
    ++f->present;
    if (valid) ++f->valid;
  }
}

bool IsInteraction(EventType t) {
  return t != EventType::kImpression && t != EventType::kSearch;
}

// A bot score at or above this marks a user/session bot-like even below the rate threshold.
constexpr double kBotScoreThreshold = 0.7;

// Running figures of one stream of events (a user or a session).
struct StreamAgg {
  int64_t events = 0;
  int64_t views = 0;
  int64_t purchases = 0;
  int64_t first_ts = 0;
  int64_t last_ts = 0;
  int64_t views_measured = 0;
  int64_t no_dwell = 0;
  double gap_sum = 0;   // seconds
  double gap_sq = 0;
  // Time spent active: gaps shorter than the inactivity threshold (a user's idle
  // days between visits do not dilute the rate of a bot that comes in bursts).
  int64_t active_ms = 0;
  int64_t active_gaps = 0;
  bool pending_view = false;

  void Observe(const StoredEvent& e, double no_dwell_ms, int64_t idle_ms) {
    if (events == 0) {
      first_ts = last_ts = e.timestamp_ms;
    } else {
      const int64_t gap = std::max<int64_t>(0, e.timestamp_ms - last_ts);
      if (pending_view) {
        ++views_measured;
        if (static_cast<double>(gap) < no_dwell_ms) ++no_dwell;
      }
      if (gap < idle_ms) {
        active_ms += gap;
        ++active_gaps;
      }
      const double g = gap / 1000.0;
      gap_sum += g;
      gap_sq += g * g;
      first_ts = std::min(first_ts, e.timestamp_ms);
      last_ts = std::max(last_ts, e.timestamp_ms);
    }
    ++events;
    if (e.type == EventType::kView) ++views;
    if (e.type == EventType::kPurchase) ++purchases;
    pending_view = e.type == EventType::kView;
  }
};

Suspect Judge(const StreamAgg& a, std::string id, const QualityOptions& o) {
  Suspect s;
  s.id = std::move(id);
  s.events = a.events;
  s.views = a.views;
  s.purchases = a.purchases;
  s.span_s = (a.last_ts - a.first_ts) / 1000.0;
  if (a.events > 1) {
    // Events per minute of active time (see StreamAgg::active_ms).
    s.events_per_minute = static_cast<double>(a.active_gaps) / std::max(a.active_ms / 1000.0, 1.0) * 60.0;
    const double n = static_cast<double>(a.events - 1);
    const double mean = a.gap_sum / n;
    const double var = std::max(0.0, a.gap_sq / n - mean * mean);
    s.burstiness_cv = mean > 0 ? std::sqrt(var) / mean : 0;
  }
  s.no_dwell_share = a.views_measured > 0 ? static_cast<double>(a.no_dwell) / a.views_measured : 0;
  if (a.events >= o.bot_min_events) {
    const double rate = o.bot_events_per_minute > 0
                            ? std::min(1.0, s.events_per_minute / o.bot_events_per_minute)
                            : 1.0;
    s.bot_score = 0.5 * rate + 0.25 * s.no_dwell_share + 0.15 * (a.purchases == 0 ? 1.0 : 0.0) +
                  0.10 * std::max(0.0, 1.0 - s.burstiness_cv);
    // Bot-like: the rate alone, or strong combined evidence just under the rate
    // threshold (e.g. 26/min with most views left within a second and no purchase).
    s.bot_like = s.events_per_minute >= o.bot_events_per_minute || s.bot_score >= kBotScoreThreshold;
  }
  return s;
}

// Keeps the k largest by a key.
class TopK {
 public:
  TopK(size_t k, std::function<double(const Suspect&)> key) : k_(k), key_(std::move(key)) {}
  void Offer(const Suspect& s) {
    if (k_ == 0) return;
    const double v = key_(s);
    if (heap_.size() < k_) {
      heap_.push({v, s});
    } else if (v > heap_.top().first) {
      heap_.pop();
      heap_.push({v, s});
    }
  }
  std::vector<Suspect> Sorted() {
    std::vector<Suspect> out;
    while (!heap_.empty()) {
      out.push_back(heap_.top().second);
      heap_.pop();
    }
    std::reverse(out.begin(), out.end());
    return out;
  }

 private:
  struct Cmp {
    bool operator()(const std::pair<double, Suspect>& a, const std::pair<double, Suspect>& b) const {
      return a.first > b.first;
    }
  };
  size_t k_;
  std::function<double(const Suspect&)> key_;
  std::priority_queue<std::pair<double, Suspect>, std::vector<std::pair<double, Suspect>>, Cmp> heap_;
};

struct UserAgg {
  StreamAgg all;
  StreamAgg session;          // current inactivity-cut session (events without session id)
  int64_t session_index = 0;
  int64_t interactions = 0;
};

struct ItemInfo {
  int64_t interactions = 0;
  bool live = false;
  bool stub = false;
};

// Everything the session summaries need.
struct SessionTally {
  explicit SessionTally(const QualityOptions& o)
      : options(o),
        top(o.max_examples, [](const Suspect& s) { return s.bot_score; }),
        longest(o.max_examples, [](const Suspect& s) { return static_cast<double>(s.events); }) {}
  void Add(const StreamAgg& a, std::string id, bool has_id) {
    if (a.events == 0) return;
    lengths.push_back(a.events);
    Suspect s = Judge(a, std::move(id), options);
    longest.Offer(s);
    if (a.events >= options.bot_min_events) {
      ++judged;
      top.Offer(s);
    }
    if (s.bot_like) {
      ++bots;
      bot_events += a.events;
      if (has_id) {
        bot_ids.push_back(s.id);
      } else {
        ++bots_without_id;
      }
    }
  }
  const QualityOptions& options;
  std::vector<int64_t> lengths;
  int64_t judged = 0, bots = 0, bot_events = 0, bots_without_id = 0;
  std::vector<std::string> bot_ids;
  TopK top;
  TopK longest;
};

double Quantile(std::vector<int64_t>* v, double q) {
  if (v->empty()) return 0;
  const size_t idx = std::min(v->size() - 1, static_cast<size_t>(std::ceil(q * v->size())) - (q > 0 ? 1 : 0));
  std::nth_element(v->begin(), v->begin() + idx, v->end());
  return static_cast<double>((*v)[idx]);
}

void AddFinding(std::vector<Finding>* f, Severity s, std::string msg) { f->push_back({s, std::move(msg)}); }

void CompletenessFindings(CompletenessSection* c) {
  if (c->catalog_items == 0) {
    AddFinding(&c->findings, Severity::kWarn, "no catalog items: item fields cannot be measured");
  }
  auto check = [&](const FieldQuality& f, const char* what) {
    const double comp = f.Completeness();
    if (!std::isnan(comp) && comp < 0.9) {
      AddFinding(&c->findings, comp < 0.5 ? Severity::kWarn : Severity::kInfo,
                 fmt::format("{} is missing on {} of {} ({} of {})", f.name, Percent(1 - comp), what,
                             f.applicable - f.present, f.applicable));
    }
    const double val = f.Validity();
    if (!std::isnan(val) && val < 1.0) {
      AddFinding(&c->findings, val < 0.99 ? Severity::kWarn : Severity::kInfo,
                 fmt::format("{} is invalid ({}) on {} {} ({} of present values)", f.name, f.rule,
                             f.present - f.valid, what, Percent(1 - val)));
    }
  };
  for (const auto& f : c->item_fields) check(f, "catalog items");
  for (const auto& f : c->event_fields) check(f, "events");
}

}  // namespace

StatusOr<QualityReport> ComputeQuality(store::Snapshot& snapshot, store::Store& store,
                                       const QualityOptions& o, Progress* progress) {
  if (o.session_gap_s <= 0) return InvalidArgumentError("quality.session_gap_s must be > 0");
  if (o.cold_threshold < 0) return InvalidArgumentError("quality.cold_threshold must be >= 0");
  if (o.outlier_z <= 0) return InvalidArgumentError("quality.outlier_z must be > 0");
  QualityReport r;
  r.options = o;
  r.watermark = snapshot.watermark();
  ASSIGN_OR_RETURN(store::StoreStats stats, snapshot.Stats());
  ASSIGN_OR_RETURN(std::vector<std::string> user_ids, snapshot.UserIds());

  // ---- items --------------------------------------------------------------------------
  std::vector<ItemInfo> items(1);
  std::vector<std::string> item_ext(1);
  CompletenessSection& comp = r.completeness;
  comp.item_fields = {
      {"title", 0, 0, 0, ""},       {"description", 0, 0, 0, ""},
      {"brand", 0, 0, 0, ""},       {"category", 0, 0, 0, ""},
      {"price", 0, 0, 0, "finite and >= 0"},
      {"currency", 0, 0, 0, "ISO 4217 code (3 capital letters)"},
      {"attributes", 0, 0, 0, "JSON object"},
      {"images", 0, 0, 0, "JSON array of URL strings"},
      {"in_stock", 0, 0, 0, ""},
      {"language", 0, 0, 0, "language tag (en, zh-CN)"},
  };
  struct TitleGroup {
    int64_t count = 0;
    std::vector<std::string> ids;
  };
  std::unordered_map<std::string, TitleGroup> titles;
  struct PricedItem {
    double price;
    int64_t id;
  };
  std::unordered_map<std::string, std::vector<PricedItem>> category_prices;

  Status st = snapshot.ForEachItem([&](const StoredItem& si) {
    if (si.id >= static_cast<int64_t>(items.size())) {
      items.resize(si.id + 1);
      item_ext.resize(si.id + 1);
    }
    item_ext[si.id] = si.item.external_id;
    ItemInfo& info = items[si.id];
    if (si.deleted) return true;
    info.live = true;
    info.stub = si.item.is_stub;
    ++r.consistency.live_items;
    if (info.stub) {
      ++r.consistency.stub_items;
      return true;
    }
    ++comp.catalog_items;
    const store::Item& it = si.item;
    auto& f = comp.item_fields;
    Count(&f[0], !IsBlank(it.title));
    Count(&f[1], !IsBlank(it.description));
    Count(&f[2], !IsBlank(it.brand));
    Count(&f[3], !IsBlank(it.category));
    const bool price_ok = it.price && std::isfinite(*it.price) && *it.price >= 0;
    Count(&f[4], it.price.has_value(), price_ok);
    Count(&f[5], !IsBlank(it.currency), IsCurrencyCode(it.currency));
    CheckJson(it.attributes_json, true, &f[6]);
    CheckJson(it.images_json, false, &f[7]);
    Count(&f[8], it.in_stock.has_value());
    Count(&f[9], !IsBlank(it.language), IsLanguageTag(it.language));
    if (!IsBlank(it.title)) {
      TitleGroup& g = titles[internal::NormalizeTitle(it.title)];
      ++g.count;
      if (g.ids.size() < 5) g.ids.push_back(it.external_id);
    }
    if (price_ok && !IsBlank(it.category)) category_prices[it.category].push_back({*it.price, si.id});
    return true;
  });
  RETURN_IF_ERROR(st);

  // ---- events -------------------------------------------------------------------------
  comp.event_fields = {
      {"event_user", 0, 0, 0, ""},
      {"event_session", 0, 0, 0, ""},
      {"event_item", 0, 0, 0, "names a catalog item (not a stub)"},
      {"purchase_price", 0, 0, 0, "finite and >= 0"},
      {"purchase_quantity", 0, 0, 0, "finite and > 0"},
      {"search_query", 0, 0, 0, ""},
      {"rating_value", 0, 0, 0, "finite"},
  };
  std::vector<UserAgg> users(std::max<size_t>(user_ids.size(), 1));
  std::unordered_map<std::string, StreamAgg> sessions;
  SessionTally tally(o);
  std::vector<uint64_t> event_hashes;
  event_hashes.reserve(static_cast<size_t>(std::max<int64_t>(0, stats.events)));
  internal::FlatU64Map first_interest;  // (user,item) -> earliest view/click/cart
  std::vector<std::pair<uint64_t, int64_t>> purchases;
  std::unordered_map<int64_t, int64_t> day_counts;
  const int64_t range_min = stats.min_event_ms;
  const int64_t range = std::max<int64_t>(0, stats.max_event_ms - stats.min_event_ms);
  const int64_t resolution = std::max<int64_t>(1000, (range + kMaxTimeBits) / kMaxTimeBits);
  const int64_t buckets = range / resolution + 1;
  std::vector<uint64_t> occupied(static_cast<size_t>((buckets + 63) / 64), 0);
  TimelinessSection& tl = r.timeliness;
  tl.gap_resolution_ms = resolution;
  const double no_dwell_ms = o.no_dwell_seconds * 1000.0;
  const int64_t idle_ms = o.session_gap_s * 1000;
  const int64_t gap_ms = o.session_gap_s * 1000;
  int64_t unattributed_events = 0;
  AnomalySection& an = r.anomalies;

  auto pair_key = [](int64_t user, int64_t item) {
    // Dense ids stay far below 2^32 (row ids of one SQLite table).
    return (static_cast<uint64_t>(user) << 32) | (static_cast<uint64_t>(item) & 0xffffffffULL);
  };

  st = snapshot.ForEachEvent([&](const StoredEvent& e) {
    if (progress != nullptr) progress->Add(1);
    ++r.events_by_type[std::string(store::EventTypeName(e.type))];
    const int64_t ts = e.timestamp_ms;
    // timeliness
    if (tl.events == 0) {
      tl.min_ms = tl.max_ms = ts;
    } else {
      tl.min_ms = std::min(tl.min_ms, ts);
      tl.max_ms = std::max(tl.max_ms, ts);
    }
    ++tl.events;
    ++day_counts[FloorDiv(ts, kDayMs)];
    const int64_t b = std::clamp<int64_t>((ts - range_min) / resolution, 0, buckets - 1);
    occupied[b / 64] |= uint64_t{1} << (b % 64);
    if (o.now_ms > 0 && ts > o.now_ms + kDayMs) ++tl.future_events;
    if (ts < o.very_old_before_ms) ++tl.very_old_events;
    // completeness
    auto& f = comp.event_fields;
    Count(&f[0], e.user != 0);
    Count(&f[1], !e.session.empty());
    if (e.type != EventType::kSearch) {
      const bool catalog = e.item > 0 && e.item < static_cast<int64_t>(items.size()) &&
                           items[e.item].live && !items[e.item].stub;
      Count(&f[2], e.item != 0, catalog);
    }
    if (e.type == EventType::kPurchase) {
      Count(&f[3], e.price.has_value(), e.price && std::isfinite(*e.price) && *e.price >= 0);
      Count(&f[4], e.quantity.has_value(), e.quantity && std::isfinite(*e.quantity) && *e.quantity > 0);
    }
    if (e.type == EventType::kSearch) Count(&f[5], !IsBlank(e.query));
    if (e.type == EventType::kRating) Count(&f[6], e.value.has_value(), e.value && std::isfinite(*e.value));
    if (e.type == EventType::kView) ++an.total_views;
    // uniqueness
    event_hashes.push_back(internal::EventKeyHash(e));
    // items
    if (e.item > 0 && e.item < static_cast<int64_t>(items.size())) {
      ItemInfo& info = items[e.item];
      if (IsInteraction(e.type)) ++info.interactions;
      if (info.stub) ++r.consistency.stub_events;
    }
    // purchase consistency
    if (e.user != 0 && e.item != 0) {
      const uint64_t key = pair_key(e.user, e.item);
      if (e.type == EventType::kView || e.type == EventType::kClick || e.type == EventType::kAddToCart) {
        first_interest.InsertMin(key, ts);
      } else if (e.type == EventType::kPurchase) {
        purchases.emplace_back(key, ts);
      }
    }
    // users and sessions
    if (e.user != 0) {
      if (e.user >= static_cast<int64_t>(users.size())) users.resize(e.user + 1);
      UserAgg& u = users[e.user];
      u.all.Observe(e, no_dwell_ms, idle_ms);
      if (e.item != 0 && IsInteraction(e.type)) ++u.interactions;
      if (e.session.empty()) {
        if (u.session.events > 0 && ts - u.session.last_ts > gap_ms) {
          const std::string& ext = e.user < static_cast<int64_t>(user_ids.size()) ? user_ids[e.user] : "";
          tally.Add(u.session, fmt::format("user:{}#{}", ext, u.session_index), false);
          ++an.sessions_cut_by_gap;
          ++u.session_index;
          u.session = StreamAgg();
        }
        u.session.Observe(e, no_dwell_ms, idle_ms);
      }
    }
    if (!e.session.empty()) {
      sessions[e.session].Observe(e, no_dwell_ms, idle_ms);
    } else if (e.user == 0) {
      ++unattributed_events;
    }
    return true;
  });
  RETURN_IF_ERROR(st);
  if (progress != nullptr) progress->Finish();
  r.events = tl.events;
  r.items = r.consistency.live_items;
  r.users = static_cast<int64_t>(user_ids.size()) - 1;

  // ---- sessions and users ---------------------------------------------------------------
  for (size_t uid = 1; uid < users.size(); ++uid) {
    UserAgg& u = users[uid];
    if (u.session.events > 0) {
      const std::string& ext = uid < user_ids.size() ? user_ids[uid] : "";
      tally.Add(u.session, fmt::format("user:{}#{}", ext, u.session_index), false);
      ++an.sessions_cut_by_gap;
    }
  }
  an.sessions_from_ids = static_cast<int64_t>(sessions.size());
  for (auto& [id, agg] : sessions) tally.Add(agg, id, true);
  sessions.clear();
  an.sessions = an.sessions_from_ids + an.sessions_cut_by_gap;
  an.sessions_judged = tally.judged;
  an.bot_sessions = tally.bots;
  an.bot_session_events = tally.bot_events;
  an.bot_sessions_without_id = tally.bots_without_id;
  an.bot_session_ids = std::move(tally.bot_ids);
  std::sort(an.bot_session_ids.begin(), an.bot_session_ids.end());
  an.top_sessions = tally.top.Sorted();
  an.session_length_p50 = Quantile(&tally.lengths, 0.5);
  an.session_length_p99 = Quantile(&tally.lengths, 0.99);
  an.session_length_p999 = Quantile(&tally.lengths, 0.999);
  const double extreme_cut = std::min<double>(an.session_length_p999, kExtremeSessionEvents);
  for (int64_t len : tally.lengths) {
    if (len > an.session_length_p999 || len > kExtremeSessionEvents) ++an.extreme_sessions;
  }
  for (auto& s : tally.longest.Sorted()) {
    if (s.events > extreme_cut) an.extreme_examples.push_back(std::move(s));
  }

  TopK top_users(o.max_examples, [](const Suspect& s) { return s.bot_score; });
  for (size_t uid = 1; uid < users.size(); ++uid) {
    const UserAgg& u = users[uid];
    if (u.all.events == 0) continue;
    ++an.users;
    an.views_measured += u.all.views_measured;
    an.views_without_dwell += u.all.no_dwell;
    if (u.all.events < o.bot_min_events) continue;
    ++an.users_judged;
    if (u.all.purchases == 0) ++an.never_purchasing_judged_users;
    Suspect s = Judge(u.all, uid < user_ids.size() ? user_ids[uid] : fmt::format("#{}", uid), o);
    if (s.bot_like) {
      ++an.bot_users;
      an.bot_user_events += u.all.events;
      an.bot_user_views += u.all.views;
      an.bot_user_ids.push_back(s.id);
    }
    top_users.Offer(s);
  }
  an.top_users = top_users.Sorted();
  std::sort(an.bot_user_ids.begin(), an.bot_user_ids.end());

  // ---- uniqueness -----------------------------------------------------------------------
  UniquenessSection& un = r.uniqueness;
  un.duplicate_events = internal::CountRepeats(&event_hashes);
  std::vector<uint64_t>().swap(event_hashes);
  for (auto& [title, g] : titles) {
    if (g.count < 2) continue;
    ++un.duplicate_title_groups;
    un.duplicate_title_items += g.count;
    un.title_examples.push_back({title, g.count, g.ids});
  }
  std::sort(un.title_examples.begin(), un.title_examples.end(), [](const auto& a, const auto& b) {
    return a.items != b.items ? a.items > b.items : a.normalized_title < b.normalized_title;
  });
  if (un.title_examples.size() > o.max_examples) un.title_examples.resize(o.max_examples);

  // ---- consistency ----------------------------------------------------------------------
  ConsistencySection& cs = r.consistency;
  cs.purchases = static_cast<int64_t>(purchases.size());
  for (const auto& [key, ts] : purchases) {
    const int64_t* first = first_interest.Find(key);
    if (first == nullptr || *first > ts) ++cs.purchases_without_prior;
  }
  for (const auto& info : items) {
    if (info.live && info.interactions == 0) ++cs.never_interacted_items;
  }
  {
    std::vector<PriceOutlier> outliers;
    std::vector<double> devs;
    for (auto& [category, prices] : category_prices) {
      if (prices.size() < static_cast<size_t>(kMinCategoryItems)) continue;
      ++cs.categories_checked;
      cs.priced_items_checked += static_cast<int64_t>(prices.size());
      std::vector<double> v;
      v.reserve(prices.size());
      // Prices vary multiplicatively (a category spans $5 and $500 items), so the
      // robust z-score is taken on log(1 + price): the natural right tail of a
      // log-normal price list is not an outlier, a price 20x the typical one is.
      for (const auto& p : prices) v.push_back(std::log1p(p.price));
      auto median_of = [](std::vector<double>* x) {
        const size_t n = x->size();
        std::nth_element(x->begin(), x->begin() + n / 2, x->end());
        double m = (*x)[n / 2];
        if (n % 2 == 0) m = (m + *std::max_element(x->begin(), x->begin() + n / 2)) / 2;
        return m;
      };
      const double median = median_of(&v);
      // The category median reported to people is the plain price median.
      std::vector<double> raw;
      raw.reserve(prices.size());
      for (const auto& p : prices) raw.push_back(p.price);
      const double price_median = median_of(&raw);
      devs.clear();
      double dev_sum = 0;
      for (const auto& p : prices) {
        devs.push_back(std::abs(std::log1p(p.price) - median));
        dev_sum += devs.back();
      }
      const double mad = median_of(&devs);
      const double mean_ad = dev_sum / prices.size();
      double scale = 0;  // z = (x - median) / scale
      if (mad > 0) {
        scale = mad / 0.6745;
      } else if (mean_ad > 0) {
        scale = 1.253314 * mean_ad;
      } else {
        continue;  // all prices equal
      }
      for (const auto& p : prices) {
        const double z = (std::log1p(p.price) - median) / scale;
        if (std::abs(z) > o.outlier_z) {
          ++cs.price_outliers;
          outliers.push_back({item_ext[p.id], category, p.price, price_median, z});
        }
      }
    }
    std::sort(outliers.begin(), outliers.end(), [](const auto& a, const auto& b) {
      return std::abs(a.robust_z) != std::abs(b.robust_z) ? std::abs(a.robust_z) > std::abs(b.robust_z)
                                                          : a.item_id < b.item_id;
    });
    if (outliers.size() > o.max_examples) outliers.resize(o.max_examples);
    cs.outlier_examples = std::move(outliers);
  }

  // ---- timeliness -----------------------------------------------------------------------
  if (tl.events > 0) {
    const int64_t first_day = FloorDiv(tl.min_ms, kDayMs), last_day = FloorDiv(tl.max_ms, kDayMs);
    tl.days_in_range = last_day - first_day + 1;
    tl.days_with_events = static_cast<int64_t>(day_counts.size());
    tl.empty_days = tl.days_in_range - tl.days_with_events;
    tl.events_per_day_mean = static_cast<double>(tl.events) / tl.days_in_range;
    std::vector<int64_t> per_day;
    per_day.reserve(day_counts.size());
    for (const auto& [day, n] : day_counts) {
      per_day.push_back(n);
      if (n > tl.busiest_day_events || (n == tl.busiest_day_events && day * kDayMs < tl.busiest_day_ms)) {
        tl.busiest_day_events = n;
        tl.busiest_day_ms = day * kDayMs;
      }
    }
    per_day.resize(static_cast<size_t>(std::min<int64_t>(tl.days_in_range, int64_t{1} << 26)), 0);
    std::sort(per_day.begin(), per_day.end());
    const size_t n = per_day.size();
    tl.events_per_day_median =
        n % 2 == 1 ? per_day[n / 2] : (per_day[n / 2 - 1] + per_day[n / 2]) / 2.0;
    // Gaps between occupied buckets.
    std::vector<TimeGap> gaps;
    int64_t prev = -1;
    for (size_t w = 0; w < occupied.size(); ++w) {
      uint64_t bits = occupied[w];
      while (bits != 0) {
        const int64_t bucket = static_cast<int64_t>(w * 64 + std::countr_zero(bits));
        bits &= bits - 1;
        if (prev >= 0 && bucket > prev + 1) {
          gaps.push_back({range_min + (prev + 1) * resolution, range_min + bucket * resolution});
          std::sort(gaps.begin(), gaps.end(), [](const TimeGap& a, const TimeGap& b) {
            return a.end_ms - a.start_ms > b.end_ms - b.start_ms;
          });
          if (gaps.size() > 3) gaps.resize(3);
        }
        prev = bucket;
      }
    }
    tl.largest_gaps = std::move(gaps);
  }
  tl.event_delay_reason =
      "events carry no ingestion time (only the time of the shopper's action), so the delay "
      "between an action and its arrival cannot be measured";

  // ---- popularity and cold start ----------------------------------------------------------
  PopularitySection& pop = r.popularity;
  std::vector<int64_t> counts;
  for (const auto& info : items) {
    if (info.live) counts.push_back(info.interactions);
  }
  pop.items = static_cast<int64_t>(counts.size());
  for (int64_t c : counts) pop.interactions += c;
  pop.gini = Gini(counts);
  pop.top1_share = TopShare(counts, 0.01);
  pop.top20_share = TopShare(counts, 0.20);
  pop.long_tail_interaction_share = pop.interactions > 0 ? 1 - pop.top20_share : 0;
  if (pop.interactions > 0) {
    std::sort(counts.begin(), counts.end(), std::greater<>());
    int64_t acc = 0;
    size_t head = 0;
    while (head < counts.size() && acc < 0.8 * pop.interactions) acc += counts[head++];
    pop.long_tail_item_share = 1.0 - static_cast<double>(head) / counts.size();
  }
  ColdStartSection& cold = r.cold_start;
  cold.threshold = o.cold_threshold;
  for (const auto& info : items) {
    if (!info.live) continue;
    ++cold.items;
    if (info.interactions < o.cold_threshold) ++cold.cold_items;
  }
  for (size_t uid = 1; uid < user_ids.size(); ++uid) {
    ++cold.users;
    const int64_t n = uid < users.size() ? users[uid].interactions : 0;
    if (n < o.cold_threshold) ++cold.cold_users;
  }

  // ---- quarantine -------------------------------------------------------------------------
  ASSIGN_OR_RETURN(r.quarantine.reasons, store.QuarantineReasons());
  for (const auto& [reason, n] : r.quarantine.reasons) r.quarantine.total += n;
  r.quarantine.share =
      internal::Ratio(r.quarantine.total, r.quarantine.total + r.events + comp.catalog_items);
  if (std::isnan(r.quarantine.share)) r.quarantine.share = 0;

  // ---- findings ---------------------------------------------------------------------------
  CompletenessFindings(&comp);
  if (un.duplicate_events > 0) {
    AddFinding(&un.findings, Severity::kWarn,
               fmt::format("{} events ({}) repeat an earlier one in every field (time, user, session, item, type, "
                           "query, values and context); `souk clean --dedupe` removes them",
                           un.duplicate_events, Percent(internal::Ratio(un.duplicate_events, r.events))));
  }
  if (un.duplicate_title_groups > 0) {
    const double share = internal::Ratio(un.duplicate_title_items, comp.catalog_items);
    AddFinding(&un.findings, share > 0.05 ? Severity::kWarn : Severity::kInfo,
               fmt::format("{} titles are shared by several items ({} items, {} of the catalog)",
                           un.duplicate_title_groups, un.duplicate_title_items, Percent(share)));
  }
  if (cs.purchases_without_prior > 0) {
    const double share = internal::Ratio(cs.purchases_without_prior, cs.purchases);
    AddFinding(&cs.findings, share > 0.2 ? Severity::kWarn : Severity::kInfo,
               fmt::format("{} of {} purchases ({}) have no earlier view, click or cart of the item by "
                           "the same user",
                           cs.purchases_without_prior, cs.purchases, Percent(share)));
  }
  if (cs.price_outliers > 0) {
    AddFinding(&cs.findings, Severity::kInfo,
               fmt::format("{} prices are outliers in their category (robust z > {})", cs.price_outliers,
                           o.outlier_z));
  }
  if (cs.never_interacted_items > 0) {
    const double share = internal::Ratio(cs.never_interacted_items, cs.live_items);
    AddFinding(&cs.findings, share > 0.5 ? Severity::kWarn : Severity::kInfo,
               fmt::format("{} items ({}) were never interacted with", cs.never_interacted_items,
                           Percent(share)));
  }
  if (cs.stub_items > 0) {
    AddFinding(&cs.findings, Severity::kWarn,
               fmt::format("{} events name {} items that have no catalog record (stubs)", cs.stub_events,
                           cs.stub_items));
  }
  if (tl.events == 0) {
    AddFinding(&tl.findings, Severity::kWarn, "no events");
  } else {
    AddFinding(&tl.findings, Severity::kInfo,
               fmt::format("events from {} to {} ({} days, {:.1f} per day)", store::FormatTimestampMs(tl.min_ms),
                           store::FormatTimestampMs(tl.max_ms), tl.days_in_range, tl.events_per_day_mean));
  }
  if (tl.empty_days > 0) {
    AddFinding(&tl.findings, Severity::kWarn,
               fmt::format("{} days inside the range have no events", tl.empty_days));
  }
  if (tl.future_events > 0) {
    AddFinding(&tl.findings, Severity::kError,
               fmt::format("{} events are dated in the future", tl.future_events));
  }
  if (tl.very_old_events > 0) {
    AddFinding(&tl.findings, Severity::kWarn,
               fmt::format("{} events are dated before {}", tl.very_old_events,
                           store::FormatTimestampMs(o.very_old_before_ms)));
  }
  AddFinding(&tl.findings, Severity::kInfo, "event delay: n/a (" + tl.event_delay_reason + ")");
  if (an.bot_users > 0) {
    AddFinding(&an.findings, Severity::kWarn,
               fmt::format("{} bot-like users ({}) produce {} of views and {} of events", an.bot_users,
                           Percent(internal::Ratio(an.bot_users, an.users)),
                           Percent(internal::Ratio(an.bot_user_views, an.total_views)),
                           Percent(internal::Ratio(an.bot_user_events, r.events))));
  }
  if (an.bot_sessions > 0) {
    AddFinding(&an.findings, Severity::kWarn,
               fmt::format("{} bot-like sessions ({}) hold {} of events", an.bot_sessions,
                           Percent(internal::Ratio(an.bot_sessions, an.sessions)),
                           Percent(internal::Ratio(an.bot_session_events, r.events))));
  }
  {
    const double nd = internal::Ratio(an.views_without_dwell, an.views_measured);
    if (!std::isnan(nd) && nd > 0.3) {
      AddFinding(&an.findings, Severity::kWarn,
                 fmt::format("{} of views are followed by the next event within {} s (no dwell)", Percent(nd),
                             o.no_dwell_seconds));
    }
  }
  if (an.extreme_sessions > 0) {
    AddFinding(&an.findings, Severity::kInfo,
               fmt::format("{} extreme sessions (longer than p99.9 = {} events or {} events)", an.extreme_sessions,
                           an.session_length_p999, kExtremeSessionEvents));
  }
  if (an.sessions_cut_by_gap > 0) {
    AddFinding(&an.findings, Severity::kInfo,
               fmt::format("{} sessions were cut by {} s of inactivity (events without session id)",
                           an.sessions_cut_by_gap, o.session_gap_s));
  }
  if (unattributed_events > 0) {
    AddFinding(&an.findings, Severity::kInfo,
               fmt::format("{} anonymous events without session id are not attributed to any session",
                           unattributed_events));
  }
  AddFinding(&pop.findings, pop.gini > 0.9 ? Severity::kWarn : Severity::kInfo,
             fmt::format("Gini {:.3f}; the top 1% of items get {} and the top 20% get {} of interactions",
                         pop.gini, Percent(pop.top1_share), Percent(pop.top20_share)));
  {
    const double ci = internal::Ratio(cold.cold_items, cold.items);
    const double cu = internal::Ratio(cold.cold_users, cold.users);
    AddFinding(&cold.findings, !std::isnan(ci) && ci > 0.5 ? Severity::kWarn : Severity::kInfo,
               fmt::format("{} of items and {} of users have fewer than {} interactions", Percent(ci),
                           Percent(cu), o.cold_threshold));
  }
  if (r.quarantine.total > 0) {
    AddFinding(&r.quarantine.findings, r.quarantine.share > 0.05 ? Severity::kError : Severity::kWarn,
               fmt::format("{} records quarantined ({} of all records)", r.quarantine.total,
                           Percent(r.quarantine.share)));
  }

  internal::FillMetrics(&r);
  return r;
}

}  // namespace souk::quality
