// QualityReport and CleanResult as JSON and as readable text.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <iterator>

#include "ingest/quality.h"
#include "store/types.h"

namespace souk::quality {

namespace {

using nlohmann::json;

json Num(double v) { return std::isnan(v) ? json(nullptr) : json(v); }

std::string Pct(double v) { return std::isnan(v) ? "n/a" : fmt::format("{:.1f}%", v * 100); }
std::string Fix(double v, int digits = 3) { return std::isnan(v) ? "n/a" : fmt::format("{:.{}f}", v, digits); }

json FindingsJson(const std::vector<Finding>& fs) {
  json a = json::array();
  for (const auto& f : fs) a.push_back({{"severity", SeverityName(f.severity)}, {"message", f.message}});
  return a;
}

json FieldJson(const FieldQuality& f) {
  json j = {{"field", f.name},
            {"applicable", f.applicable},
            {"present", f.present},
            {"completeness", Num(f.Completeness())}};
  if (!f.rule.empty()) {
    j["rule"] = f.rule;
    j["valid"] = f.valid;
    j["validity"] = Num(f.Validity());
  }
  return j;
}

json SuspectJson(const Suspect& s) {
  return {{"id", s.id},
          {"events", s.events},
          {"views", s.views},
          {"purchases", s.purchases},
          {"span_s", s.span_s},
          {"events_per_minute", s.events_per_minute},
          {"burstiness_cv", s.burstiness_cv},
          {"no_dwell_share", s.no_dwell_share},
          {"bot_score", s.bot_score},
          {"bot_like", s.bot_like}};
}

json SuspectsJson(const std::vector<Suspect>& v) {
  json a = json::array();
  for (const auto& s : v) a.push_back(SuspectJson(s));
  return a;
}

void AppendFindings(std::string* out, const std::vector<Finding>& fs) {
  for (const auto& f : fs) fmt::format_to(std::back_inserter(*out), "  [{}] {}\n", SeverityName(f.severity), f.message);
}

}  // namespace

nlohmann::json QualityReportToJson(const QualityReport& r) {
  json j;
  const auto& o = r.options;
  j["options"] = {{"bot_events_per_minute", o.bot_events_per_minute},
                  {"bot_min_events", o.bot_min_events},
                  {"no_dwell_seconds", o.no_dwell_seconds},
                  {"outlier_z", o.outlier_z},
                  {"cold_threshold", o.cold_threshold},
                  {"session_gap_s", o.session_gap_s},
                  {"now_ms", o.now_ms},
                  {"very_old_before_ms", o.very_old_before_ms}};
  j["summary"] = {{"watermark", r.watermark}, {"items", r.items}, {"events", r.events}, {"users", r.users},
                  {"events_by_type", r.events_by_type}};

  const auto& c = r.completeness;
  json items = json::array(), events = json::array();
  for (const auto& f : c.item_fields) items.push_back(FieldJson(f));
  for (const auto& f : c.event_fields) events.push_back(FieldJson(f));
  j["completeness"] = {{"catalog_items", c.catalog_items},
                       {"items", items},
                       {"events", events},
                       {"findings", FindingsJson(c.findings)}};

  const auto& u = r.uniqueness;
  json titles = json::array();
  for (const auto& t : u.title_examples) {
    titles.push_back({{"normalized_title", t.normalized_title}, {"items", t.items}, {"item_ids", t.item_ids}});
  }
  j["uniqueness"] = {{"duplicate_title_groups", u.duplicate_title_groups},
                     {"duplicate_title_items", u.duplicate_title_items},
                     {"title_examples", titles},
                     {"duplicate_events", u.duplicate_events},
                     {"findings", FindingsJson(u.findings)}};

  const auto& cs = r.consistency;
  json outliers = json::array();
  for (const auto& p : cs.outlier_examples) {
    outliers.push_back({{"item_id", p.item_id},
                        {"category", p.category},
                        {"price", p.price},
                        {"category_median", p.category_median},
                        {"robust_z", p.robust_z}});
  }
  j["consistency"] = {{"purchases", cs.purchases},
                      {"purchases_without_prior_interaction", cs.purchases_without_prior},
                      {"categories_checked", cs.categories_checked},
                      {"priced_items_checked", cs.priced_items_checked},
                      {"price_outliers", cs.price_outliers},
                      {"price_outlier_examples", outliers},
                      {"live_items", cs.live_items},
                      {"never_interacted_items", cs.never_interacted_items},
                      {"stub_items", cs.stub_items},
                      {"stub_events", cs.stub_events},
                      {"findings", FindingsJson(cs.findings)}};

  const auto& tl = r.timeliness;
  json gaps = json::array();
  for (const auto& g : tl.largest_gaps) {
    gaps.push_back({{"start", store::FormatTimestampMs(g.start_ms)},
                    {"end", store::FormatTimestampMs(g.end_ms)},
                    {"hours", (g.end_ms - g.start_ms) / 3'600'000.0}});
  }
  j["timeliness"] = {
      {"events", tl.events},
      {"first_event", tl.events > 0 ? json(store::FormatTimestampMs(tl.min_ms)) : json(nullptr)},
      {"last_event", tl.events > 0 ? json(store::FormatTimestampMs(tl.max_ms)) : json(nullptr)},
      {"days_in_range", tl.days_in_range},
      {"days_with_events", tl.days_with_events},
      {"empty_days", tl.empty_days},
      {"events_per_day_mean", tl.events_per_day_mean},
      {"events_per_day_median", tl.events_per_day_median},
      {"busiest_day", tl.events > 0 ? json(store::FormatTimestampMs(tl.busiest_day_ms).substr(0, 10)) : json(nullptr)},
      {"busiest_day_events", tl.busiest_day_events},
      {"gap_resolution_ms", tl.gap_resolution_ms},
      {"largest_gaps", gaps},
      {"future_events", tl.future_events},
      {"very_old_events", tl.very_old_events},
      {"event_delay", tl.event_delay},
      {"event_delay_reason", tl.event_delay_reason},
      {"findings", FindingsJson(tl.findings)}};

  const auto& an = r.anomalies;
  j["anomalies"] = {{"users", an.users},
                    {"users_judged", an.users_judged},
                    {"bot_users", an.bot_users},
                    {"bot_user_events", an.bot_user_events},
                    {"bot_user_views", an.bot_user_views},
                    {"never_purchasing_judged_users", an.never_purchasing_judged_users},
                    {"sessions", an.sessions},
                    {"sessions_from_ids", an.sessions_from_ids},
                    {"sessions_cut_by_gap", an.sessions_cut_by_gap},
                    {"sessions_judged", an.sessions_judged},
                    {"bot_sessions", an.bot_sessions},
                    {"bot_session_events", an.bot_session_events},
                    {"bot_sessions_without_id", an.bot_sessions_without_id},
                    {"total_views", an.total_views},
                    {"views_measured", an.views_measured},
                    {"views_without_dwell", an.views_without_dwell},
                    {"session_length_p50", an.session_length_p50},
                    {"session_length_p99", an.session_length_p99},
                    {"session_length_p999", an.session_length_p999},
                    {"extreme_sessions", an.extreme_sessions},
                    {"top_users", SuspectsJson(an.top_users)},
                    {"top_sessions", SuspectsJson(an.top_sessions)},
                    {"extreme_session_examples", SuspectsJson(an.extreme_examples)},
                    {"findings", FindingsJson(an.findings)}};

  const auto& p = r.popularity;
  j["popularity"] = {{"items", p.items},
                     {"interactions", p.interactions},
                     {"gini", p.gini},
                     {"top1_share", p.top1_share},
                     {"top20_share", p.top20_share},
                     {"long_tail_interaction_share", p.long_tail_interaction_share},
                     {"long_tail_item_share", p.long_tail_item_share},
                     {"findings", FindingsJson(p.findings)}};

  const auto& cold = r.cold_start;
  j["cold_start"] = {{"threshold", cold.threshold},
                     {"items", cold.items},
                     {"cold_items", cold.cold_items},
                     {"users", cold.users},
                     {"cold_users", cold.cold_users},
                     {"findings", FindingsJson(cold.findings)}};

  j["quarantine"] = {{"total", r.quarantine.total},
                     {"reasons", r.quarantine.reasons},
                     {"share", r.quarantine.share},
                     {"findings", FindingsJson(r.quarantine.findings)}};

  json metrics = json::object();
  for (const auto& [name, v] : r.metrics) metrics[name] = Num(v);
  j["metrics"] = metrics;
  return j;
}

std::string QualityReportToText(const QualityReport& r) {
  std::string out;
  auto w = [&out]<typename... A>(fmt::format_string<A...> f, A&&... a) {
    fmt::format_to(std::back_inserter(out), f, std::forward<A>(a)...);
  };
  w("Souk data-quality report (watermark {}): {} items, {} events, {} users\n", r.watermark, r.items, r.events,
    r.users);

  const auto& c = r.completeness;
  w("\n== Completeness and validity ({} catalog items) ==\n", c.catalog_items);
  w("  {:<20} {:>10} {:>13} {:>9}  {}\n", "field", "applicable", "completeness", "validity", "rule");
  auto field = [&](const FieldQuality& f) {
    w("  {:<20} {:>10} {:>13} {:>9}  {}\n", f.name, f.applicable, Pct(f.Completeness()),
      f.rule.empty() ? std::string("-") : Pct(f.Validity()), f.rule);
  };
  for (const auto& f : c.item_fields) field(f);
  for (const auto& f : c.event_fields) field(f);
  AppendFindings(&out, c.findings);

  const auto& u = r.uniqueness;
  w("\n== Uniqueness ==\n");
  w("  duplicate titles: {} groups, {} items; duplicate events: {}\n", u.duplicate_title_groups,
    u.duplicate_title_items, u.duplicate_events);
  for (const auto& t : u.title_examples) {
    w("    \"{}\" x{} ({})\n", t.normalized_title, t.items, fmt::join(t.item_ids, ", "));
  }
  AppendFindings(&out, u.findings);

  const auto& cs = r.consistency;
  w("\n== Consistency ==\n");
  w("  purchases without prior view/click/cart: {} of {} ({})\n", cs.purchases_without_prior, cs.purchases,
    Pct(r.metrics.count("purchase_without_view_share") ? r.metrics.at("purchase_without_view_share") : NAN));
  w("  price outliers (robust z > {}): {} of {} priced items in {} categories\n", r.options.outlier_z,
    cs.price_outliers, cs.priced_items_checked, cs.categories_checked);
  for (const auto& p : cs.outlier_examples) {
    w("    item {} price {:.2f} vs median {:.2f} in '{}' (z = {:.1f})\n", p.item_id, p.price, p.category_median,
      p.category, p.robust_z);
  }
  w("  never interacted: {} of {} live items; stubs: {} items named by {} events\n", cs.never_interacted_items,
    cs.live_items, cs.stub_items, cs.stub_events);
  AppendFindings(&out, cs.findings);

  const auto& tl = r.timeliness;
  w("\n== Timeliness ==\n");
  if (tl.events > 0) {
    w("  range {} .. {} ({} days, {} with events, {} empty)\n", store::FormatTimestampMs(tl.min_ms),
      store::FormatTimestampMs(tl.max_ms), tl.days_in_range, tl.days_with_events, tl.empty_days);
    w("  events per day: mean {:.1f}, median {:.1f}, busiest {} ({} events)\n", tl.events_per_day_mean,
      tl.events_per_day_median, store::FormatTimestampMs(tl.busiest_day_ms).substr(0, 10), tl.busiest_day_events);
    for (const auto& g : tl.largest_gaps) {
      w("  gap {} .. {} ({:.2f} h)\n", store::FormatTimestampMs(g.start_ms), store::FormatTimestampMs(g.end_ms),
        (g.end_ms - g.start_ms) / 3'600'000.0);
    }
    w("  future events: {}, very old events: {}\n", tl.future_events, tl.very_old_events);
  }
  w("  event delay: {} ({})\n", tl.event_delay, tl.event_delay_reason);
  AppendFindings(&out, tl.findings);

  const auto& an = r.anomalies;
  w("\n== Anomalies ==\n");
  w("  users: {} active, {} judged (>= {} events), {} bot-like (>= {} events/min)\n", an.users, an.users_judged,
    r.options.bot_min_events, an.bot_users, r.options.bot_events_per_minute);
  w("  sessions: {} ({} by id, {} cut by {} s gaps), {} judged, {} bot-like\n", an.sessions, an.sessions_from_ids,
    an.sessions_cut_by_gap, r.options.session_gap_s, an.sessions_judged, an.bot_sessions);
  w("  views without dwell (< {} s): {} of {} measured\n", r.options.no_dwell_seconds, an.views_without_dwell,
    an.views_measured);
  w("  session length p50 {} p99 {} p99.9 {}; extreme sessions: {}\n", an.session_length_p50,
    an.session_length_p99, an.session_length_p999, an.extreme_sessions);
  auto suspects = [&](const char* title, const std::vector<Suspect>& v) {
    if (v.empty()) return;
    w("  {}:\n", title);
    for (const auto& s : v) {
      w("    {:<28} score {:.2f} events {:>6} rate {:>8.1f}/min cv {:.2f} no-dwell {} purchases {}{}\n", s.id,
        s.bot_score, s.events, s.events_per_minute, s.burstiness_cv, Pct(s.no_dwell_share), s.purchases,
        s.bot_like ? "  BOT-LIKE" : "");
    }
  };
  suspects("top suspect users", an.top_users);
  suspects("top suspect sessions", an.top_sessions);
  suspects("extreme sessions", an.extreme_examples);
  AppendFindings(&out, an.findings);

  const auto& p = r.popularity;
  w("\n== Popularity concentration ==\n");
  w("  {} items, {} interactions; Gini {}; top 1% {}; top 20% {}; long tail {} of interactions on {} of items\n",
    p.items, p.interactions, Fix(p.gini), Pct(p.top1_share), Pct(p.top20_share),
    Pct(p.long_tail_interaction_share), Pct(p.long_tail_item_share));
  AppendFindings(&out, p.findings);

  const auto& cold = r.cold_start;
  w("\n== Cold start (< {} interactions) ==\n", cold.threshold);
  w("  items {} of {}; users {} of {}\n", cold.cold_items, cold.items, cold.cold_users, cold.users);
  AppendFindings(&out, cold.findings);

  w("\n== Quarantine ==\n");
  w("  {} records ({})\n", r.quarantine.total, Pct(r.quarantine.share));
  for (const auto& [reason, n] : r.quarantine.reasons) w("    {:<28} {}\n", reason, n);
  AppendFindings(&out, r.quarantine.findings);
  return out;
}

nlohmann::json CleanResultToJson(const CleanResult& r) {
  return {{"dry_run", r.dry_run},
          {"events_before", r.events_before},
          {"sessions", r.sessions},
          {"users", r.users},
          {"bot_sessions_without_id", r.bot_sessions_without_id},
          {"duplicate_events", r.duplicate_events},
          {"predicted_removed", r.predicted_removed},
          {"removed", r.removed},
          {"events_after", r.events_after}};
}

std::string CleanResultToText(const CleanResult& r) {
  std::string out;
  auto w = [&out]<typename... A>(fmt::format_string<A...> f, A&&... a) {
    fmt::format_to(std::back_inserter(out), f, std::forward<A>(a)...);
  };
  w("{}events before: {}\n", r.dry_run ? "[dry run] " : "", r.events_before);
  w("bot-like sessions targeted: {}{}\n", r.sessions.size(),
    r.bot_sessions_without_id > 0
        ? fmt::format(" ({} more have no session id and cannot be removed by session)", r.bot_sessions_without_id)
        : "");
  for (size_t i = 0; i < r.sessions.size() && i < 20; ++i) w("  session {}\n", r.sessions[i]);
  w("bot-like users targeted: {}\n", r.users.size());
  for (size_t i = 0; i < r.users.size() && i < 20; ++i) w("  user {}\n", r.users[i]);
  w("duplicates among the rest: {}\n", r.duplicate_events);
  if (r.dry_run) {
    w("would remove {} events (nothing changed){}\n", r.predicted_removed,
      r.duplicate_events > 0 ? "; duplicates are counted without comparing event context, so dedupe may remove fewer" : "");
  } else {
    w("removed {} events (predicted {}); events after: {}\n", r.removed, r.predicted_removed, r.events_after);
  }
  return out;
}

}  // namespace souk::quality
