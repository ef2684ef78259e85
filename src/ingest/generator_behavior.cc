// Shopper behavior: sessions day by day, each following an e-commerce funnel,
// streamed to events.csv in global time order with one day of events in memory.
//
// Funnel calibration (published industry averages used as the guide):
// - Session conversion rate of online stores is ~2-4% (e.g. IRP Commerce and
//   Littledata benchmarks put the average around 2.5-3%).
// - Add-to-cart: ~8-10% of sessions add something to the cart (Dynamic Yield /
//   Littledata add-to-cart-rate benchmarks).
// - Cart abandonment is ~70% (Baymard Institute, average of 49 studies: 70.19%),
//   i.e. cart-to-purchase ~30%.
// The probabilities below (intent mix, per-view cart probability, checkout
// probability) were tuned so that a default run lands in those ranges;
// generator_test.cc checks them.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "common/progress.h"
#include "ingest/generator_internal.h"

namespace souk::gen::internal {

namespace {

enum class EventType : uint8_t {
  kImpression, kView, kClick, kAddToCart, kRemoveFromCart, kPurchase, kRating, kSearch
};
constexpr std::string_view kTypeName[] = {"impression", "view",     "click",  "add_to_cart",
                                          "remove_from_cart", "purchase", "rating", "search"};
enum class Page : uint8_t { kHome, kSearch, kCategory, kProduct, kCart, kCheckout, kOrders };
constexpr std::string_view kPageName[] = {"home", "search", "category", "product",
                                          "cart", "checkout", "orders"};
enum class Source : uint8_t { kNone, kRecommendation, kComplement, kReorder };
constexpr std::string_view kSourceName[] = {"", "recommendation", "complement", "reorder"};
constexpr std::string_view kDeviceName[] = {"mobile", "desktop", "tablet"};

constexpr uint32_t kNone = UINT32_MAX;

struct Event {
  int64_t ts = 0;
  uint32_t session = 0;
  uint16_t seq = 0;
  uint32_t user = 0;
  uint32_t item = kNone;
  EventType type = EventType::kView;
  Device device = Device::kMobile;
  Page page = Page::kHome;
  Source source = Source::kNone;
  uint8_t value = 0;     // rating 1..5 or quantity
  int8_t position = -1;  // position in a result list (impressions, clicks)
  double price = 0;
  std::string query;
};

// Hour-of-day profile of session starts (UTC treated as shop-local time): quiet
// nights, a lunch bump, an evening peak.
constexpr double kHourWeight[24] = {0.5, 0.3, 0.2, 0.15, 0.15, 0.2, 0.4, 0.7,
                                    0.9, 1.0, 1.05, 1.1, 1.2, 1.1, 1.05, 1.05,
                                    1.1, 1.2, 1.4, 1.6, 1.7, 1.6, 1.2, 0.8};
// Day-of-week factor, index 0 = Sunday: weekends are busier.
constexpr double kWeekdayWeight[7] = {1.15, 0.95, 0.95, 0.97, 1.0, 1.02, 1.12};

enum class Intent { kBrowse, kConsider, kBuy };

struct CartLine {
  uint32_t item;
  uint8_t quantity;
  double price;
};

struct SessionResult {
  int n_events = 0;
  bool converted = false;
  double revenue = 0;
};

// Simulates shopper sessions; appends events to a caller-owned vector.
class SessionSimulator {
 public:
  SessionSimulator(const GeneratorOptions& options, const Catalog& catalog)
      : options_(options), catalog_(catalog) {}

  SessionResult Run(uint32_t session, uint32_t user_index, User& user, int64_t start, int day,
                    Rng& rng, std::vector<Event>* out) {
    out_ = out;
    session_ = session;
    user_index_ = user_index;
    t_ = start;
    seq_ = 0;
    device_ = rng.Chance(0.8) ? user.device : static_cast<Device>(rng.Below(3));
    result_ = SessionResult{};
    if (user.bot) {
      RunBot(user, rng);
    } else {
      RunHuman(user, day, rng);
    }
    return result_;
  }

 private:
  Event& Emit(EventType type, uint32_t item, Page page) {
    Event e;
    e.ts = t_;
    e.session = session_;
    e.seq = seq_++;
    e.user = user_index_;
    e.item = item;
    e.type = type;
    e.device = device_;
    e.page = page;
    out_->push_back(std::move(e));
    ++result_.n_events;
    return out_->back();
  }
  void Wait(double seconds) { t_ += std::max<int64_t>(0, std::llround(seconds)); }
  // Time spent reading a product page: log-normal, median ~35 s, 3 s .. 15 min.
  void Dwell(Rng& rng) { Wait(std::clamp(rng.LogNormal(std::log(35.0), 0.9), 3.0, 900.0)); }

  double Utility(const User& user, const Item& item) const {
    double u = 1.5 * item.quality;
    const int top = Leaves()[item.leaf].top;
    for (int k = 0; k < 2; ++k) {
      if (user.fav_brand_top[k] == top && user.fav_brand[k] == item.brand) u += 0.8;
    }
    const double rel = std::log(std::max(1e-3, static_cast<double>(item.price)) /
                                std::max(1e-3, static_cast<double>(item.median)));
    u -= 0.8 * user.price_sensitivity * std::abs(rel - user.price_level);
    return u;
  }

  int ItemLang(const User& user, Rng& rng) const {
    int l = static_cast<int>(user.lang);
    if (catalog_.has_lang[1 - l] && rng.Chance(0.1)) l = 1 - l;
    if (!catalog_.has_lang[l]) l = 1 - l;
    return l;
  }

  uint16_t PickLeaf(const User& user, int lang, Rng& rng) const {
    if (rng.Chance(0.8)) {
      double r = rng.Uniform();
      for (int k = 0; k < 3; ++k) {
        if ((r -= user.fav_weight[k]) < 0 && !catalog_.leaf_items[lang][user.fav_leaf[k]].empty()) {
          return user.fav_leaf[k];
        }
      }
    }
    return static_cast<uint16_t>(catalog_.leaf_popularity[lang].Sample(rng));
  }

  uint32_t SampleFromLeaf(uint16_t leaf, int lang, Rng& rng) const {
    const auto& items = catalog_.leaf_items[lang][leaf];
    if (items.empty()) return kNone;
    return items[catalog_.leaf_alias[lang][leaf].Sample(rng)];
  }

  // Best of a few popularity-sampled candidates by the shopper's utility.
  uint32_t ChooseItem(const User& user, uint16_t leaf, int lang, Rng& rng) const {
    uint32_t best = kNone;
    double best_u = -1e9;
    for (int k = 0; k < 3; ++k) {
      const uint32_t c = SampleFromLeaf(leaf, lang, rng);
      if (c == kNone) continue;
      const double u = Utility(user, catalog_.items[c]) + 0.5 * rng.Normal();
      if (u > best_u) { best_u = u; best = c; }
    }
    return best;
  }

  void AddToCart(uint32_t item, Page page, Source source, Rng& rng,
                 std::vector<CartLine>* cart) {
    const Item& it = catalog_.items[item];
    const bool consumable = IsConsumable(Leaves()[it.leaf].spec->kind);
    uint8_t qty = 1;
    const double r = rng.Uniform();
    if (consumable) qty = r < 0.55 ? 1 : r < 0.85 ? 2 : r < 0.95 ? 3 : 6;
    else if (r < 0.08) qty = 2;
    Event& e = Emit(EventType::kAddToCart, item, page);
    e.value = qty;
    e.price = it.price;
    e.source = source;
    cart->push_back({item, qty, it.price});
  }

  void RunHuman(User& user, int day, Rng& rng) {
    // A rating for an earlier purchase, when the shop asked for one.
    if (user.pending_rating != kNone && rng.Chance(0.6)) {
      const Item& it = catalog_.items[user.pending_rating];
      Event& e = Emit(EventType::kRating, user.pending_rating, Page::kOrders);
      e.value = static_cast<uint8_t>(
          std::clamp<long>(std::lround(1.0 + 4.2 * it.quality + 0.8 * rng.Normal()), 1, 5));
      user.pending_rating = kNone;
      Wait(rng.Range(10, 60));
    }
    std::vector<CartLine> cart;
    // Replenishment of a consumable on the shopper's cycle.
    if (user.consumable != kNone && day >= user.consumable_due_day && rng.Chance(0.6)) {
      Emit(EventType::kView, user.consumable, Page::kOrders).source = Source::kReorder;
      Wait(rng.Range(5, 40));
      AddToCart(user.consumable, Page::kProduct, Source::kReorder, rng, &cart);
      Wait(rng.Range(20, 120));
      Checkout(user, day, rng, &cart);
      if (!rng.Chance(0.3)) return;
      Wait(rng.Range(10, 90));
    }

    const double buy_p = std::min(0.25, 0.05 * user.buy_propensity);
    const double consider_p = std::min(0.4, 0.18 * user.buy_propensity);
    const double r = rng.Uniform();
    const Intent intent = r < buy_p ? Intent::kBuy : r < buy_p + consider_p ? Intent::kConsider
                                                                           : Intent::kBrowse;
    const double mean_steps = intent == Intent::kBrowse ? 2.5 : intent == Intent::kConsider ? 4.5 : 3.0;
    const int steps = std::min(30, rng.Geometric(mean_steps));
    const double cart_p = intent == Intent::kBrowse ? 0.008 : intent == Intent::kConsider ? 0.05 : 0.35;

    const int lang = ItemLang(user, rng);
    uint16_t leaf = PickLeaf(user, lang, rng);
    for (int s = 0; s < steps; ++s) {
      if (s > 0 && rng.Chance(0.2)) leaf = PickLeaf(user, lang, rng);
      const uint32_t target = ChooseItem(user, leaf, lang, rng);
      if (target == kNone) break;
      const double m = rng.Uniform();
      const bool search = s == 0 ? m < 0.45 : m < 0.3;
      const bool list = !search && (s == 0 ? m < 0.8 : m < 0.65);
      uint32_t viewed = target;
      Source source = Source::kNone;
      if (search || list) {
        const Page page = search ? Page::kSearch : Page::kCategory;
        if (search) {
          Emit(EventType::kSearch, kNone, Page::kSearch).query =
              MakeQuery(catalog_.items[target], user, options_.typo_rate, rng);
          Wait(rng.Range(1, 2));
        }
        // The result list: the target among other items of the leaf.
        const int shown = rng.Range(3, 6);
        const int target_pos = static_cast<int>(rng.Below(static_cast<uint64_t>(shown)));
        uint32_t alt = kNone;
        int alt_pos = 0;
        listed_.clear();
        listed_.push_back(target);
        for (int p = 0; p < shown; ++p) {
          uint32_t item = target;
          if (p != target_pos) {
            // Another item of the leaf, not already in the list (a few tries).
            for (int tries = 0; tries < 4; ++tries) {
              item = SampleFromLeaf(leaf, lang, rng);
              if (std::find(listed_.begin(), listed_.end(), item) == listed_.end()) break;
            }
            if (item == target || std::find(listed_.begin(), listed_.end(), item) != listed_.end()) {
              continue;
            }
          }
          listed_.push_back(item);
          if (p != target_pos && alt == kNone) {
            alt = item;
            alt_pos = p + 1;
          }
          Event& e = Emit(EventType::kImpression, item, page);
          e.position = static_cast<int8_t>(p + 1);
        }
        Wait(std::clamp(rng.LogNormal(std::log(8.0), 0.7), 2.0, 120.0));
        if (alt != kNone && rng.Chance(0.2)) viewed = alt;
        Event& c = Emit(EventType::kClick, viewed, page);
        c.position = static_cast<int8_t>(viewed == target ? target_pos + 1 : alt_pos);
        Wait(rng.Range(1, 3));
      } else {
        source = Source::kRecommendation;
      }
      Emit(EventType::kView, viewed, Page::kProduct).source = source;
      Dwell(rng);
      const Item& it = catalog_.items[viewed];
      const double appeal = std::clamp(0.5 + 0.5 * Utility(user, it), 0.2, 2.0);
      if (rng.Chance(std::min(0.9, cart_p * appeal * user.buy_propensity))) {
        AddToCart(viewed, Page::kProduct, Source::kNone, rng, &cart);
        Wait(rng.Range(3, 20));
        // Frequently-bought-together items.
        for (uint32_t k = catalog_.comp_begin[viewed]; k < catalog_.comp_begin[viewed + 1]; ++k) {
          if (!rng.Chance(catalog_.comp_strength[k] * (intent == Intent::kBuy ? 1.0 : 0.7))) {
            continue;
          }
          const uint32_t comp = catalog_.comp_items[k];
          Emit(EventType::kView, comp, Page::kProduct).source = Source::kComplement;
          Wait(std::clamp(rng.LogNormal(std::log(15.0), 0.7), 2.0, 300.0));
          AddToCart(comp, Page::kProduct, Source::kComplement, rng, &cart);
          Wait(rng.Range(3, 20));
        }
      }
    }
    if (cart.empty()) return;
    const double checkout_p = intent == Intent::kBrowse ? 0.08 : intent == Intent::kConsider ? 0.18 : 0.5;
    if (!rng.Chance(std::min(0.95, checkout_p * user.buy_propensity))) return;  // abandoned
    Wait(rng.Range(10, 60));
    Checkout(user, day, rng, &cart);
  }

  // Some lines are removed on the cart page; the rest are purchased.
  void Checkout(User& user, int day, Rng& rng, std::vector<CartLine>* cart) {
    std::vector<CartLine> keep;
    for (const CartLine& line : *cart) {
      if (cart->size() > 1 && rng.Chance(0.1)) {
        Event& e = Emit(EventType::kRemoveFromCart, line.item, Page::kCart);
        e.value = line.quantity;
        Wait(rng.Range(2, 15));
      } else {
        keep.push_back(line);
      }
    }
    if (keep.empty()) return;
    Wait(std::clamp(rng.LogNormal(std::log(90.0), 0.6), 20.0, 900.0));
    for (const CartLine& line : keep) {
      Event& e = Emit(EventType::kPurchase, line.item, Page::kCheckout);
      e.value = line.quantity;
      e.price = line.price;
      result_.revenue += static_cast<double>(line.price) * line.quantity;
      const Item& it = catalog_.items[line.item];
      if (IsConsumable(Leaves()[it.leaf].spec->kind)) {
        user.consumable = line.item;
        user.consumable_due_day =
            day + static_cast<int>(std::lround(user.cycle_days * (0.85 + 0.3 * rng.Uniform())));
      }
    }
    result_.converted = true;
    if (rng.Chance(0.3)) user.pending_rating = keep[rng.Below(keep.size())].item;
    cart->clear();
  }

  // Crawlers: many product views (a few searches), < 1 s apart, never buy.
  void RunBot(const User& user, Rng& rng) {
    const int n = rng.Range(30, 150);
    const uint64_t n_items = catalog_.items.size();
    for (int i = 0; i < n; ++i) {
      const uint32_t item = static_cast<uint32_t>(rng.Below(n_items));
      if (rng.Chance(0.1)) {
        Emit(EventType::kSearch, kNone, Page::kSearch).query =
            MakeQuery(catalog_.items[item], user, 0.0, rng);
      } else {
        Emit(EventType::kView, item, Page::kProduct);
      }
      if (rng.Chance(0.4)) Wait(1);
    }
  }

  const GeneratorOptions& options_;
  const Catalog& catalog_;
  std::vector<Event>* out_ = nullptr;
  uint32_t session_ = 0;
  uint32_t user_index_ = 0;
  int64_t t_ = 0;
  uint16_t seq_ = 0;
  Device device_ = Device::kMobile;
  SessionResult result_;
  std::vector<uint32_t> listed_;  // items of the current result list
};

constexpr std::string_view kEventsHeader =
    "user_id,session_id,item_id,type,query,value,quantity,price,timestamp,context\n";

void AppendEventRow(const Event& e, std::string* out) {
  out->append(UserId(e.user));
  out->push_back(',');
  out->append(SessionId(e.session));
  out->push_back(',');
  if (e.item != kNone) out->append(ItemId(e.item));
  out->push_back(',');
  out->append(kTypeName[static_cast<int>(e.type)]);
  out->push_back(',');
  if (e.type == EventType::kSearch) AppendCsvField(e.query, out);
  out->push_back(',');
  if (e.type == EventType::kRating) fmt::format_to(std::back_inserter(*out), "{}", e.value);
  out->push_back(',');
  if (e.type == EventType::kAddToCart || e.type == EventType::kPurchase) {
    fmt::format_to(std::back_inserter(*out), "{},{}", e.value, e.price);
  } else {
    out->push_back(',');
  }
  out->push_back(',');
  out->append(FormatTimestamp(e.ts));
  out->push_back(',');
  std::string ctx = fmt::format(R"({{"device":"{}","page":"{}")",
                                kDeviceName[static_cast<int>(e.device)],
                                kPageName[static_cast<int>(e.page)]);
  if (e.position > 0) fmt::format_to(std::back_inserter(ctx), R"(,"position":{})", e.position);
  if (e.source != Source::kNone) {
    fmt::format_to(std::back_inserter(ctx), R"(,"source":"{}")",
                   kSourceName[static_cast<int>(e.source)]);
  }
  ctx.push_back('}');
  AppendCsvField(ctx, out);
  out->push_back('\n');
}

int WeekdayOf(int64_t unix_seconds) {
  int64_t days = unix_seconds >= 0 ? unix_seconds / 86400 : (unix_seconds - 86399) / 86400;
  return static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
}

}  // namespace

Status SimulateBehavior(const GeneratorOptions& options, const Catalog& catalog,
                        std::vector<User>& users, const std::string& out_dir,
                        BehaviorCounts* counts) {
  namespace fs = std::filesystem;
  const fs::path dir(out_dir);
  const fs::path gt = dir / "ground_truth";
  FileWriter events_w, holdout_w, future_w, sessions_w;
  RETURN_IF_ERROR(events_w.Open((dir / "events.csv").string()));
  RETURN_IF_ERROR(holdout_w.Open((gt / "holdout_events.csv").string()));
  RETURN_IF_ERROR(future_w.Open((gt / "future_purchases.csv").string()));
  RETURN_IF_ERROR(sessions_w.Open((gt / "sessions.csv").string()));
  events_w.Write(kEventsHeader);
  holdout_w.Write(kEventsHeader);
  future_w.Write("user_id,item_id,timestamp\n");
  sessions_w.Write("session_id,user_id,start,n_events,converted,revenue\n");

  const int64_t cutoff =
      options.start_time + static_cast<int64_t>(options.days - options.holdout_days) * 86400;
  SessionSimulator sim(options, catalog);

  std::vector<double> activity(users.size());
  for (size_t u = 0; u < users.size(); ++u) activity[u] = users[u].activity;
  const AliasTable user_pick(activity);
  const AliasTable hour_pick(std::vector<double>(std::begin(kHourWeight), std::end(kHourWeight)));

  std::vector<double> day_weight(static_cast<size_t>(options.days));
  for (int d = 0; d < options.days; ++d) {
    day_weight[d] = kWeekdayWeight[WeekdayOf(options.start_time + int64_t{d} * 86400)] *
                    (1.0 + 0.002 * d);
  }

  // Total sessions: from the rate, or calibrated so that events ~= events_target.
  double total_sessions = static_cast<double>(options.users) * options.days *
                          options.sessions_per_user_day;
  double events_per_session = 0;
  if (options.events_target > 0) {
    Rng cal(Mix(options.seed, 0xCA11B));
    std::vector<Event> scratch;
    const int kSamples = 3000;
    for (int i = 0; i < kSamples; ++i) {
      const uint32_t u = user_pick.Sample(cal);
      User copy = users[u];
      const int day = static_cast<int>(cal.Below(static_cast<uint64_t>(options.days)));
      scratch.clear();
      sim.Run(0, u, copy, options.start_time + int64_t{day} * 86400, day, cal, &scratch);
      events_per_session += static_cast<double>(scratch.size());
    }
    events_per_session = std::max(1.0, events_per_session / kSamples);
    total_sessions = static_cast<double>(options.events_target) / events_per_session;
  }

  ProgressOptions popts = options.progress;
  popts.unit = "sessions";
  Progress progress("generate sessions", static_cast<uint64_t>(total_sessions), popts);

  std::vector<Event> pending;
  std::vector<std::pair<int64_t, uint32_t>> starts;
  std::string events_buf, holdout_buf, future_buf, sessions_buf;
  uint64_t next_session = 0;
  int64_t events_done = 0;
  double sessions_left = total_sessions;
  double carry = 0;
  for (int d = 0; d < options.days; ++d) {
    // Re-aim at the event target with the mean observed so far.
    if (options.events_target > 0 && next_session > 1000) {
      const double mean = static_cast<double>(events_done) / static_cast<double>(next_session);
      sessions_left = std::max(0.0, static_cast<double>(options.events_target - events_done) / mean);
      progress.SetTotal(next_session + static_cast<uint64_t>(sessions_left));
    }
    double w_left = 0;
    for (int k = d; k < options.days; ++k) w_left += day_weight[k];
    const double want = sessions_left * day_weight[d] / w_left + carry;
    const int64_t n_today = static_cast<int64_t>(std::floor(want));
    carry = want - static_cast<double>(n_today);
    sessions_left = std::max(0.0, sessions_left - static_cast<double>(n_today));

    const int64_t day_start = options.start_time + int64_t{d} * 86400;
    Rng day_rng(Mix(options.seed, 0xDA70000ULL + static_cast<uint64_t>(d)));
    starts.clear();
    for (int64_t s = 0; s < n_today; ++s) {
      const uint32_t u = user_pick.Sample(day_rng);
      const int64_t ts = day_start + int64_t{hour_pick.Sample(day_rng)} * 3600 +
                         static_cast<int64_t>(day_rng.Below(3600));
      starts.emplace_back(ts, u);
    }
    std::sort(starts.begin(), starts.end());
    for (const auto& [ts, u] : starts) {
      const uint64_t sid = next_session++;
      Rng rng(Mix(options.seed, 0x5E550000000ULL + sid));
      const SessionResult r = sim.Run(static_cast<uint32_t>(sid), u, users[u], ts, d, rng, &pending);
      events_done += r.n_events;
      sessions_buf.append(SessionId(sid));
      sessions_buf.push_back(',');
      sessions_buf.append(UserId(u));
      fmt::format_to(std::back_inserter(sessions_buf), ",{},{},{},{:.2f}\n", FormatTimestamp(ts),
                     r.n_events, r.converted ? 1 : 0, r.revenue);
      sessions_w.Flush(&sessions_buf);
      progress.Add(1);
    }
    // Emit what can no longer be preceded by a later session's event.
    std::sort(pending.begin(), pending.end(), [](const Event& a, const Event& b) {
      if (a.ts != b.ts) return a.ts < b.ts;
      if (a.session != b.session) return a.session < b.session;
      return a.seq < b.seq;
    });
    const int64_t horizon = d + 1 == options.days ? INT64_MAX : day_start + 86400;
    size_t emitted = 0;
    for (; emitted < pending.size() && pending[emitted].ts < horizon; ++emitted) {
      const Event& e = pending[emitted];
      const bool holdout = e.ts >= cutoff;
      AppendEventRow(e, holdout ? &holdout_buf : &events_buf);
      if (holdout) {
        ++counts->events_holdout;
      } else {
        ++counts->events_train;
      }
      if (e.type == EventType::kPurchase) {
        ++counts->purchases;
        if (holdout) {
          ++counts->future_purchases;
          fmt::format_to(std::back_inserter(future_buf), "{},{},{}\n", UserId(e.user),
                         ItemId(e.item), FormatTimestamp(e.ts));
        }
      }
      events_w.Flush(&events_buf);
      holdout_w.Flush(&holdout_buf);
      future_w.Flush(&future_buf);
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(emitted));
  }
  progress.Finish();
  counts->sessions = static_cast<int64_t>(next_session);
  events_w.Flush(&events_buf, 0);
  holdout_w.Flush(&holdout_buf, 0);
  future_w.Flush(&future_buf, 0);
  sessions_w.Flush(&sessions_buf, 0);
  RETURN_IF_ERROR(events_w.Close());
  RETURN_IF_ERROR(holdout_w.Close());
  RETURN_IF_ERROR(future_w.Close());
  RETURN_IF_ERROR(sessions_w.Close());
  return OkStatus();
}

}  // namespace souk::gen::internal
