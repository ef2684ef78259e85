#include "app/intent_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <span>
#include <unordered_map>
#include <unordered_set>

#include "common/file.h"
#include "common/logging.h"
#include "lm/subword_encoder.h"
#include "rank/intent_sessions.h"
#include "eval/metrics.h"

namespace souk::app {
namespace {

namespace fs = std::filesystem;
using online::SessionEvent;
using store::EventType;

constexpr int64_t kDayMs = 86400000LL;
constexpr int kFormatVersion = 1;

struct ItemRow {
  std::string external, title, category, brand;
  double price = online::kNaN;
};

// The text the intent models' encoder embeds for an item.
std::string ItemText(const std::string& title, const std::string& category) {
  return category.empty() ? title : title + " " + category;
}

// Item vectors of the intent models' text encoder, computed on demand and kept
// (spans stay valid: map nodes do not move). Not thread-safe: one per request.
class TextVectors {
 public:
  explicit TextVectors(const lm::Encoder* encoder) : encoder_(encoder) {}
  std::span<const float> Get(const std::string& id, const std::string& text) {
    if (encoder_ == nullptr || text.empty()) return {};
    auto it = cache_.find(id);
    if (it == cache_.end()) {
      std::vector<float> v(static_cast<size_t>(encoder_->Dim()));
      const std::string t[] = {text};
      if (!encoder_->Encode(t, lm::TextKind::kDocument, v.data()).ok()) v.clear();
      bool zero = true;
      for (float x : v) zero = zero && x == 0.0f;
      if (zero) v.clear();
      it = cache_.emplace(id, std::move(v)).first;
    }
    return it->second;
  }

 private:
  const lm::Encoder* encoder_;
  std::unordered_map<std::string, std::vector<float>> cache_;
};

// Gives events without a session id a session: a 30-minute inactivity cut per user.
void DeriveSessions(std::vector<rank::IntentRawEvent>& events, int64_t gap_ms) {
  std::unordered_map<std::string, std::vector<size_t>> by_user;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].session.empty() && !events[i].user.empty()) by_user[events[i].user].push_back(i);
  }
  for (auto& [user, idx] : by_user) {
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
      return events[a].event.ts_ms < events[b].event.ts_ms;
    });
    int k = 0;
    int64_t last = 0;
    for (size_t j = 0; j < idx.size(); ++j) {
      const int64_t ts = events[idx[j]].event.ts_ms;
      if (j > 0 && ts - last > gap_ms) ++k;
      last = ts;
      events[idx[j]].session = fmt::format("~{}#{}", user, k);
    }
  }
}

nlohmann::json OofMetrics(const rank::IntentModel& m, size_t rows, double positives) {
  nlohmann::json j = {{"rows", rows}, {"positives", positives}, {"rounds", m.rounds()}};
  auto auc = eval::RocAuc(m.oof_probabilities(), m.oof_labels());
  auto ece = eval::ExpectedCalibrationError(m.oof_probabilities(), m.oof_labels(), 10);
  j["oof_roc_auc"] = auc.ok() ? *auc : 0.0;
  j["oof_ece"] = ece.ok() ? ece->expected_calibration_error : 0.0;
  return j;
}

double Positives(const rank::TrainingSet& ts) {
  double p = 0;
  for (float y : ts.label) p += y > 0.5f ? 1 : 0;
  return p;
}

nlohmann::json DriversJson(const rank::IntentModel& m, const std::vector<float>& row, int k,
                           const std::string& lang) {
  nlohmann::json out = nlohmann::json::array();
  auto d = m.Drivers(row, k);
  if (!d.ok()) return out;
  for (const rank::Driver& drv : *d) {
    out.push_back({{"feature", drv.feature},
                   {"value", std::isfinite(drv.value) ? nlohmann::json(drv.value) : nlohmann::json()},
                   {"contribution", drv.contribution},
                   {"text", rank::DescribeDriver(drv, lang)}});
  }
  return out;
}

// The catalog fields of an item (cached per call).
class ItemLookup {
 public:
  explicit ItemLookup(store::Store& store) : store_(store) {}
  const ItemRow& Get(const std::string& id) {
    auto it = cache_.find(id);
    if (it != cache_.end()) return it->second;
    ItemRow r;
    r.external = id;
    auto item = store_.GetItem(id);
    if (item.ok() && item->has_value()) {
      const store::Item& x = (*item)->item;
      r.title = x.title;
      r.category = x.category;
      r.brand = x.brand;
      if (x.price) r.price = *x.price;
    }
    return cache_.emplace(id, std::move(r)).first->second;
  }

 private:
  store::Store& store_;
  std::unordered_map<std::string, ItemRow> cache_;
};

constexpr int64_t kMaxSessionEvents = 500;     // newest events of a session scored
constexpr int64_t kMaxHistoryEvents = 100000;  // newest events of a customer read

// Index of the first event of the latest session in time-ordered `events` (at
// most kMaxSessionEvents back): the events sharing the newest one's session id,
// or, when it has none, the run of id-less events with gaps <= gap_ms.
template <typename Event, typename SessionOf>
size_t LatestSessionBegin(std::span<const Event> events, int64_t gap_ms, SessionOf session_of) {
  if (events.empty()) return 0;
  const std::string& session = session_of(events.back());
  size_t begin = events.size() - 1;
  while (begin > 0 && events.size() - begin < static_cast<size_t>(kMaxSessionEvents)) {
    const Event& prev = events[begin - 1];
    const bool same = session.empty()
                          ? session_of(prev).empty() &&
                                events[begin].timestamp_ms - prev.timestamp_ms <= gap_ms
                          : session_of(prev) == session;
    if (!same) break;
    --begin;
  }
  return begin;
}

SessionEvent ToSessionEvent(const store::RecentEvent& e, ItemLookup& items) {
  SessionEvent s;
  s.ts_ms = e.timestamp_ms;
  s.type = e.type;
  s.item_id = e.item_id;
  if (e.quantity) s.quantity = *e.quantity;
  if (!e.item_id.empty()) {
    const ItemRow& r = items.Get(e.item_id);
    s.category = r.category;
    s.brand = r.brand;
    s.price = r.price;
  }
  return s;
}

// Counters and events of one session's store events (cut before the first purchase
// is NOT applied: a live session may already contain purchases).
void Accumulate(const std::vector<store::RecentEvent>& events, ItemLookup& items,
                online::SessionCounters* counters, std::vector<SessionEvent>* out) {
  for (const auto& e : events) {
    if (e.type == EventType::kImpression) continue;
    SessionEvent s = ToSessionEvent(e, items);
    counters->Add(s);
    out->push_back(std::move(s));
  }
}

}  // namespace

int64_t SessionGapMs(const Config& config) {
  return std::max<int64_t>(1, config.GetInt("online.session_timeout_minutes")) * 60 * 1000;
}

fs::path IntentModelsDir(const std::string& data_dir) { return fs::path(data_dir) / "models" / "intent"; }

std::string IntentLevel(const IntentModels& models, double p) {
  if (!std::isfinite(p)) return "unknown";
  if (p >= models.high_threshold) return "high";
  if (p < models.low_threshold) return "low";
  return "medium";
}

StatusOr<nlohmann::json> TrainIntentModels(const AppContext& ctx, store::Store& store) {
  const auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(auto snap, store.OpenSnapshot());
  std::unordered_map<int64_t, ItemRow> items;
  RETURN_IF_ERROR(snap->ForEachItem([&](const store::StoredItem& it) {
    if (it.deleted) return true;
    ItemRow r;
    r.external = it.item.external_id;
    r.title = it.item.title;
    r.category = it.item.category;
    r.brand = it.item.brand;
    if (it.item.price) r.price = *it.item.price;
    items.emplace(it.id, std::move(r));
    return true;
  }));
  ASSIGN_OR_RETURN(std::vector<std::string> users, snap->UserIds());
  std::vector<rank::IntentRawEvent> events;
  RETURN_IF_ERROR(snap->ForEachEvent([&](const store::StoredEvent& e) {
    if (e.type == EventType::kImpression || e.type == EventType::kRating) return true;
    rank::IntentRawEvent r;
    if (e.user > 0 && static_cast<size_t>(e.user) < users.size()) r.user = users[e.user];
    r.session = e.session;
    if (r.user.empty() && r.session.empty()) return true;
    r.event.ts_ms = e.timestamp_ms;
    r.event.type = e.type;
    if (e.item > 0) {
      auto it = items.find(e.item);
      if (it == items.end()) return true;  // deleted item
      r.event.item_id = it->second.external;
      r.event.category = it->second.category;
      r.event.brand = it->second.brand;
      r.event.price = it->second.price;
    }
    if (e.price && *e.price >= 0) r.event.price = *e.price;
    if (e.quantity) r.event.quantity = *e.quantity;
    events.push_back(std::move(r));
    return true;
  }));
  const int64_t gap_ms = SessionGapMs(ctx.config);
  DeriveSessions(events, gap_ms);
  // The customer model needs the events again, in time order.
  std::vector<rank::IntentRawEvent> customer_events;
  customer_events.reserve(events.size());
  for (const auto& e : events) {
    if (!e.user.empty()) customer_events.push_back(e);
  }
  rank::IntentSessionData data = rank::BuildIntentSessions(std::move(events), nullptr);
  int64_t converted = 0;
  for (const auto& s : data.sessions) converted += s.converted ? 1 : 0;
  if (data.sessions.size() < 50 || converted < 10) {
    return FailedPreconditionError(fmt::format(
        "intent models need at least 50 sessions and 10 that end with a purchase; the store has "
        "{} sessions, {} with a purchase (import events first)",
        data.sessions.size(), converted));
  }

  IntentModels out;
  nlohmann::json report = {{"watermark", snap->watermark()}, {"sessions", data.sessions.size()}};
  nlohmann::json models = nlohmann::json::object();
  rank::IntentModelOptions mo;
  ASSIGN_OR_RETURN(mo.calibration, rank::ParseCalibrationKind(ctx.config.GetString("intent.calibration")));
  const int64_t folds = ctx.config.GetInt("intent.folds");
  if (folds < 2 || folds > 20) {
    return InvalidArgumentError(fmt::format("intent.folds must be in 2..20, got {}", folds));
  }
  mo.folds = static_cast<int>(folds);
  const ProgressOptions po = ctx.MakeProgressOptions();
  const ProgressOptions* progress = &po;

  // Text similarity between viewed items: a sub-word encoder learned from the
  // catalog's titles and categories (skipped with a note when it cannot train).
  std::unordered_map<std::string, std::string> item_text;
  std::vector<std::string> corpus;
  for (const auto& [id, row] : items) {
    std::string t = ItemText(row.title, row.category);
    if (t.empty()) continue;
    corpus.push_back(t);
    item_text.emplace(row.external, std::move(t));
  }
  if (!corpus.empty()) {
    lm::SubwordOptions so;
    so.dim = 64;
    so.epochs = 3;
    so.threads = 2;
    auto enc = lm::SubwordEncoder::Train(corpus, so, nullptr);
    if (enc.ok()) {
      out.encoder = std::move(*enc);
    } else {
      report["notes"].push_back("no text encoder: " + enc.status().message());
    }
  }
  TextVectors train_vectors(out.encoder.get());
  const rank::EmbeddingIntentSignals signals([&](const std::string& id) -> std::span<const float> {
    auto it = item_text.find(id);
    return it == item_text.end() ? std::span<const float>() : train_vectors.Get(id, it->second);
  });
  std::vector<int64_t> groups;
  rank::TrainingSet ts =
      rank::BuildSessionTrainingSet(data.sessions, signals, mo.folds, &out.priors, &groups);
  {
    auto m = rank::IntentModel::Train(ts, mo, groups, progress);
    if (!m.ok()) return m.status().WithContext("training the session intent model");
    out.session = std::move(*m);
    models["session"] = OofMetrics(*out.session, ts.rows(), Positives(ts));
  }
  out.base_rate = static_cast<double>(converted) / static_cast<double>(data.sessions.size());
  out.high_threshold = std::min(0.5, std::max(0.15, 4 * out.base_rate));
  out.low_threshold = out.base_rate;

  {
    std::vector<int64_t> item_groups;
    rank::TrainingSet its = rank::BuildItemTrainingSet(data.sessions, mo.folds, nullptr, &item_groups);
    const double pos = Positives(its);
    if (its.rows() >= 100 && pos >= 10 && pos < static_cast<double>(its.rows())) {
      auto m = rank::IntentModel::Train(its, mo, item_groups, progress);
      if (m.ok()) {
        out.item = std::move(*m);
        models["item"] = OofMetrics(*out.item, its.rows(), pos);
      } else {
        models["item"] = {{"skipped", m.status().message()}};
      }
    } else {
      models["item"] = {{"skipped", fmt::format("{} item rows, {} bought", its.rows(), pos)}};
    }
  }

  {
    // Customer rows at reference times R = last - 30 d, - 60 d, - 90 d (each with
    // at least 14 days of history before it); label: a purchase in [R, R + 30 d).
    std::stable_sort(customer_events.begin(), customer_events.end(),
                     [](const auto& a, const auto& b) { return a.event.ts_ms < b.event.ts_ms; });
    rank::TrainingSet cts;
    cts.feature_names = rank::CustomerFeatureNames();
    std::vector<int64_t> cgroups;
    if (!customer_events.empty()) {
      const int64_t first = customer_events.front().event.ts_ms;
      const int64_t last = customer_events.back().event.ts_ms;
      std::vector<int64_t> refs;
      for (int k = 3; k >= 1; --k) {
        const int64_t r = last - k * 30 * kDayMs;
        if (r - first >= 14 * kDayMs) refs.push_back(r);
      }
      std::unordered_map<std::string, online::CustomerCounters> counters;
      std::unordered_map<std::string, int64_t> session_purchases;
      std::unordered_set<std::string> sessions_seen;
      size_t applied = 0;
      for (int64_t r : refs) {
        while (applied < customer_events.size() && customer_events[applied].event.ts_ms < r) {
          const auto& e = customer_events[applied++];
          const bool fresh = sessions_seen.insert(e.session).second;
          bool first_purchase = false;
          if (e.event.type == EventType::kPurchase) first_purchase = session_purchases[e.session]++ == 0;
          counters[e.user].AddEvent(e.event, fresh, first_purchase);
        }
        std::unordered_set<std::string> buyers;
        for (size_t j = applied; j < customer_events.size(); ++j) {
          const auto& e = customer_events[j];
          if (e.event.ts_ms >= r + 30 * kDayMs) break;
          if (e.event.type == EventType::kPurchase) buyers.insert(e.user);
        }
        for (const auto& [user, c] : counters) {
          cts.AddRow(rank::CustomerFeatures(c, r), buyers.count(user) ? 1.0f : 0.0f);
          cgroups.push_back(static_cast<int64_t>(std::hash<std::string>{}(user) >> 1));
        }
      }
    }
    const double pos = Positives(cts);
    if (cts.rows() >= 100 && pos >= 10 && pos < static_cast<double>(cts.rows())) {
      auto m = rank::IntentModel::Train(cts, mo, cgroups, progress);
      if (m.ok()) {
        out.customer = std::move(*m);
        models["customer"] = OofMetrics(*out.customer, cts.rows(), pos);
      } else {
        models["customer"] = {{"skipped", m.status().message()}};
      }
    } else {
      models["customer"] = {
          {"skipped", fmt::format("{} customer rows, {} buyers (needs 44+ days of events)",
                                  cts.rows(), pos)}};
    }
  }

  // Save: <dir>/<version>/..., then CURRENT.
  const fs::path root = IntentModelsDir(ctx.data_dir);
  const std::string base = fmt::format(
      "{}", std::chrono::duration_cast<std::chrono::seconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count());
  std::string version = base;
  std::error_code ec;
  for (int k = 2; fs::exists(root / version, ec); ++k) version = fmt::format("{}-{}", base, k);
  const fs::path dir = root / version;
  fs::create_directories(dir, ec);
  if (ec) return InternalError(fmt::format("cannot create '{}': {}", dir.string(), ec.message()));
  RETURN_IF_ERROR(out.session->Save((dir / "session").string()));
  if (out.item) RETURN_IF_ERROR(out.item->Save((dir / "item").string()));
  if (out.customer) RETURN_IF_ERROR(out.customer->Save((dir / "customer").string()));
  if (out.encoder) RETURN_IF_ERROR(out.encoder->Save((dir / "encoder").string()));
  RETURN_IF_ERROR(WriteFileAtomically(dir / "priors.json", out.priors.ToJson().dump()));
  nlohmann::json manifest = {{"kind", "intent_models"},
                             {"format_version", kFormatVersion},
                             {"watermark", snap->watermark()},
                             {"base_rate", out.base_rate},
                             {"levels", {{"high", out.high_threshold}, {"low", out.low_threshold}}},
                             {"models", models}};
  RETURN_IF_ERROR(WriteFileAtomically(dir / "manifest.json", manifest.dump(2)));
  RETURN_IF_ERROR(WriteFileAtomically(root / "CURRENT", version + "\n"));
  report["version"] = version;
  report["dir"] = dir.string();
  report["base_rate"] = out.base_rate;
  report["models"] = models;
  report["seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

StatusOr<std::unique_ptr<IntentModels>> LoadCurrentIntentModels(const std::string& data_dir) {
  const fs::path root = IntentModelsDir(data_dir);
  std::ifstream in(root / "CURRENT");
  std::string v;
  if (in) std::getline(in, v);
  if (v.empty()) {
    return FailedPreconditionError(
        fmt::format("no intent model in '{}': run `souk train intent` first", root.string()));
  }
  const fs::path dir = root / v;
  auto out = std::make_unique<IntentModels>();
  out->version = v;
  ASSIGN_OR_RETURN(std::string mtext, ReadFileToString(dir / "manifest.json"));
  out->manifest = nlohmann::json::parse(mtext, nullptr, false);
  const auto& m = out->manifest;
  if (m.is_discarded() || !m.is_object() || m.value("kind", "") != "intent_models" ||
      m.value("format_version", 0) != kFormatVersion || !m.contains("levels")) {
    return DataLossError(fmt::format("{}: not an intent model manifest (kind intent_models, "
                                     "format_version {})",
                                     (dir / "manifest.json").string(), kFormatVersion));
  }
  out->base_rate = m.value("base_rate", 0.0);
  out->high_threshold = m["levels"].value("high", 0.5);
  out->low_threshold = m["levels"].value("low", 0.0);
  ASSIGN_OR_RETURN(std::string ptext, ReadFileToString(dir / "priors.json"));
  auto pj = nlohmann::json::parse(ptext, nullptr, false);
  if (pj.is_discarded()) return DataLossError((dir / "priors.json").string() + ": not JSON");
  ASSIGN_OR_RETURN(out->priors, rank::IntentPriors::FromJson(pj));
  ASSIGN_OR_RETURN(out->session, rank::IntentModel::Load((dir / "session").string()));
  if (fs::exists(dir / "item")) {
    ASSIGN_OR_RETURN(out->item, rank::IntentModel::Load((dir / "item").string()));
  }
  if (fs::exists(dir / "customer")) {
    ASSIGN_OR_RETURN(out->customer, rank::IntentModel::Load((dir / "customer").string()));
  }
  if (fs::exists(dir / "encoder")) {
    ASSIGN_OR_RETURN(out->encoder, lm::SubwordEncoder::Load((dir / "encoder").string()));
  }
  return out;
}

StatusOr<nlohmann::json> ScoreLiveIntent(store::Store& store, const IntentModels& models,
                                         const LiveIntentArgs& args) {
  if (args.user.empty() && args.session.empty()) {
    return InvalidArgumentError("give --user U or --session S");
  }
  if (args.drivers < 0 || args.drivers > 50) {
    return InvalidArgumentError(fmt::format("--drivers must be in 0..50, got {}", args.drivers));
  }
  nlohmann::json notes = nlohmann::json::array();
  ItemLookup items(store);

  // The user's history (one read), and the session's events: the given session,
  // else the user's latest one.
  std::vector<store::RecentEvent> history;
  if (!args.user.empty()) {
    store::RecentEventsQuery q;
    q.user_id = args.user;
    q.limit = kMaxHistoryEvents;
    ASSIGN_OR_RETURN(history, store.RecentEvents(q));
  }
  std::vector<store::RecentEvent> session_events;
  std::string session = args.session;
  if (!args.session.empty()) {
    store::RecentEventsQuery q;
    q.user_id = args.user;
    q.session_id = args.session;
    q.limit = kMaxSessionEvents;
    ASSIGN_OR_RETURN(session_events, store.RecentEvents(q));
  } else if (!history.empty()) {
    session = history.back().session;
    const size_t begin = LatestSessionBegin(
        std::span<const store::RecentEvent>(history), args.session_gap_ms,
        [](const store::RecentEvent& e) -> const std::string& { return e.session; });
    session_events.assign(history.begin() + static_cast<std::ptrdiff_t>(begin), history.end());
  }
  online::SessionCounters counters;
  std::vector<SessionEvent> events;
  Accumulate(session_events, items, &counters, &events);
  const int64_t start_ms = events.empty() ? 0 : events.front().ts_ms;
  const int64_t now_ms = events.empty() ? 0 : events.back().ts_ms;

  // The customer's history before the session.
  online::CustomerCounters customer;
  bool has_customer = false;
  if (!args.user.empty()) {
    std::unordered_set<std::string> seen;
    std::unordered_map<std::string, int64_t> purchases;
    for (const auto& e : history) {
      if (e.type == EventType::kImpression) continue;
      if (!events.empty() && e.timestamp_ms >= start_ms) continue;
      if (!session.empty() && e.session == session) continue;
      const std::string key = e.session.empty() ? "~" : e.session;
      const bool fresh = seen.insert(key).second;
      bool first_purchase = false;
      if (e.type == EventType::kPurchase) first_purchase = purchases[key]++ == 0;
      customer.AddEvent(ToSessionEvent(e, items), fresh, first_purchase);
    }
    has_customer = customer.events > 0;
    if (history.empty()) notes.push_back(fmt::format("unknown user '{}': no events", args.user));
  }

  nlohmann::json out = {{"user", args.user},      {"session", session},
                        {"events", events.size()}, {"model", models.version}};
  TextVectors vectors(models.encoder.get());
  const rank::EmbeddingIntentSignals signals([&](const std::string& id) -> std::span<const float> {
    const ItemRow& r = items.Get(id);
    return vectors.Get(id, ItemText(r.title, r.category));
  });
  if (events.empty()) {
    notes.push_back("no events in the session: the base rate is shown");
    out["session_intent"] = {{"probability", models.base_rate},
                             {"level", IntentLevel(models, models.base_rate)},
                             {"drivers", nlohmann::json::array()}};
  } else {
    const std::vector<float> row = rank::SessionFeatures(
        counters, events, has_customer ? &customer : nullptr, models.priors, signals, now_ms);
    const double p = models.session->Predict(row);
    out["session_intent"] = {{"probability", p},
                             {"level", IntentLevel(models, p)},
                             {"drivers", DriversJson(*models.session, row, args.drivers, args.lang)}};
  }
  nlohmann::json item_scores = nlohmann::json::array();
  if (models.item && !events.empty()) {
    std::vector<std::string> seen_items;
    for (const auto& e : events) {
      if (e.item_id.empty()) continue;
      if (e.type != EventType::kView && e.type != EventType::kAddToCart && e.type != EventType::kClick) continue;
      if (std::find(seen_items.begin(), seen_items.end(), e.item_id) == seen_items.end()) {
        seen_items.push_back(e.item_id);
      }
    }
    std::vector<std::pair<double, std::string>> scored;
    for (const auto& id : seen_items) {
      const std::vector<float> row = rank::ItemFeatures(counters, events, id,
                                                        has_customer ? &customer : nullptr,
                                                        models.priors, now_ms);
      scored.emplace_back(models.item->Predict(row), id);
    }
    std::sort(scored.begin(), scored.end(), [](auto& a, auto& b) { return a.first > b.first; });
    for (const auto& [p, id] : scored) item_scores.push_back({{"item", id}, {"probability", p}});
  }
  out["items"] = item_scores;
  if (models.customer && has_customer) {
    const int64_t at = now_ms > 0 ? now_ms : customer.last_ms;
    const std::vector<float> row = rank::CustomerFeatures(customer, at);
    const double p = models.customer->Predict(row);
    out["customer_intent"] = {{"probability", p},
                              {"drivers", DriversJson(*models.customer, row, args.drivers, args.lang)}};
  } else {
    out["customer_intent"] = nullptr;
  }
  out["notes"] = notes;
  return out;
}

recommend::IntentFn MakeIntentFn(std::shared_ptr<const IntentModels> models, int64_t gap_ms) {
  return [models, gap_ms](const recommend::InteractionData& data,
                  std::span<const recommend::HistoryEvent> history) -> float {
    if (!models || !models->session || history.empty()) {
      return std::numeric_limits<float>::quiet_NaN();
    }
    static const std::string kNoSession;
    const size_t begin = LatestSessionBegin(
        history, gap_ms, [](const recommend::HistoryEvent&) -> const std::string& { return kNoSession; });
    online::SessionCounters counters;
    std::vector<SessionEvent> events;
    for (size_t i = begin; i < history.size(); ++i) {
      const recommend::HistoryEvent& h = history[i];
      if (h.item < 0 || h.item >= data.num_items()) continue;
      if (h.type == EventType::kImpression) continue;
      const recommend::ItemInfo& info = data.item(h.item);
      SessionEvent e;
      e.ts_ms = h.timestamp_ms;
      e.type = h.type;
      e.item_id = info.external_id;
      e.category = info.category;
      e.brand = info.brand;
      if (info.price) e.price = *info.price;
      e.quantity = h.quantity;
      counters.Add(e);
      events.push_back(std::move(e));
    }
    if (events.empty()) return std::numeric_limits<float>::quiet_NaN();
    TextVectors vectors(models->encoder.get());
    const rank::EmbeddingIntentSignals signals([&](const std::string& id) -> std::span<const float> {
      const auto dense = data.FindItem(id);
      if (!dense) return {};
      const recommend::ItemInfo& info = data.item(*dense);
      return vectors.Get(id, ItemText(info.title, info.category));
    });
    return static_cast<float>(models->session->Predict(rank::SessionFeatures(
        counters, events, nullptr, models->priors, signals, events.back().ts_ms)));
  };
}

}  // namespace souk::app
