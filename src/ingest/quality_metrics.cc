// The flat metric map of a QualityReport and the --fail-on conditions on it.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "ingest/quality.h"
#include "ingest/quality_internal.h"

namespace souk::quality {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string_view OpText(CompareOp op) {
  switch (op) {
    case CompareOp::kLess: return "<";
    case CompareOp::kLessEqual: return "<=";
    case CompareOp::kGreater: return ">";
    case CompareOp::kGreaterEqual: return ">=";
    case CompareOp::kEqual: return "==";
    case CompareOp::kNotEqual: return "!=";
  }
  return "?";
}

// Item field names and event field names that get _completeness / _validity metrics.
const char* const kItemFields[] = {"title", "description", "brand", "category", "price",
                                   "currency", "attributes", "images", "in_stock", "language"};
const char* const kItemValidity[] = {"price", "currency", "attributes", "images", "language"};
const char* const kEventFields[] = {"event_user", "event_session", "event_item", "purchase_price",
                                    "purchase_quantity", "search_query", "rating_value"};
const char* const kEventValidity[] = {"event_item", "purchase_price", "purchase_quantity",
                                      "rating_value"};
const char* const kOtherMetrics[] = {
    // sizes
    "items", "catalog_items", "events", "users", "sessions",
    // uniqueness
    "duplicate_title_groups", "duplicate_title_item_share", "duplicate_event_count",
    "duplicate_event_share",
    // consistency
    "purchase_without_view_share", "price_outlier_count", "price_outlier_share",
    "never_interacted_item_share", "stub_item_count", "stub_item_share", "stub_event_share",
    // timeliness
    "time_span_days", "events_per_day", "empty_days", "empty_day_share", "largest_gap_hours",
    "future_event_share", "old_event_share",
    // anomalies
    "bot_user_count", "bot_user_share", "bot_user_event_share", "bot_user_view_share",
    "bot_session_count", "bot_session_share", "bot_session_event_share", "no_dwell_view_share",
    "extreme_session_count", "session_length_p999",
    // popularity
    "gini", "top1_share", "top20_share", "long_tail_share", "long_tail_item_share",
    // cold start
    "cold_item_share", "cold_user_share",
    // quarantine
    "quarantine_count", "quarantine_share"};

}  // namespace

const std::vector<std::string>& QualityMetricNames() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> v;
    for (const char* f : kItemFields) v.push_back(fmt::format("item_{}_completeness", f));
    for (const char* f : kItemValidity) v.push_back(fmt::format("item_{}_validity", f));
    for (const char* f : kEventFields) v.push_back(fmt::format("{}_completeness", f));
    for (const char* f : kEventValidity) v.push_back(fmt::format("{}_validity", f));
    for (const char* m : kOtherMetrics) v.push_back(m);
    std::sort(v.begin(), v.end());
    return v;
  }();
  return kNames;
}

namespace internal {

void FillMetrics(QualityReport* r) {
  auto& m = r->metrics;
  m.clear();
  for (const auto& f : r->completeness.item_fields) {
    m["item_" + f.name + "_completeness"] = f.Completeness();
    if (!f.rule.empty()) m["item_" + f.name + "_validity"] = f.Validity();
  }
  for (const auto& f : r->completeness.event_fields) {
    m[f.name + "_completeness"] = f.Completeness();
    if (!f.rule.empty()) m[f.name + "_validity"] = f.Validity();
  }
  const auto& an = r->anomalies;
  const auto& cs = r->consistency;
  const auto& tl = r->timeliness;
  const auto& un = r->uniqueness;
  m["items"] = static_cast<double>(r->items);
  m["catalog_items"] = static_cast<double>(r->completeness.catalog_items);
  m["events"] = static_cast<double>(r->events);
  m["users"] = static_cast<double>(r->users);
  m["sessions"] = static_cast<double>(an.sessions);

  m["duplicate_title_groups"] = static_cast<double>(un.duplicate_title_groups);
  m["duplicate_title_item_share"] = Ratio(un.duplicate_title_items, r->completeness.catalog_items);
  m["duplicate_event_count"] = static_cast<double>(un.duplicate_events);
  m["duplicate_event_share"] = Ratio(un.duplicate_events, r->events);

  m["purchase_without_view_share"] = Ratio(cs.purchases_without_prior, cs.purchases);
  m["price_outlier_count"] = static_cast<double>(cs.price_outliers);
  m["price_outlier_share"] = Ratio(cs.price_outliers, cs.priced_items_checked);
  m["never_interacted_item_share"] = Ratio(cs.never_interacted_items, cs.live_items);
  m["stub_item_count"] = static_cast<double>(cs.stub_items);
  m["stub_item_share"] = Ratio(cs.stub_items, cs.live_items);
  m["stub_event_share"] = Ratio(cs.stub_events, r->events);

  const bool has_events = tl.events > 0;
  m["time_span_days"] = has_events ? (tl.max_ms - tl.min_ms) / 86'400'000.0 : kNaN;
  m["events_per_day"] = has_events ? tl.events_per_day_mean : kNaN;
  m["empty_days"] = has_events ? static_cast<double>(tl.empty_days) : kNaN;
  m["empty_day_share"] = Ratio(tl.empty_days, tl.days_in_range);
  m["largest_gap_hours"] =
      !has_events ? kNaN
      : tl.largest_gaps.empty()
          ? 0.0
          : (tl.largest_gaps[0].end_ms - tl.largest_gaps[0].start_ms) / 3'600'000.0;
  m["future_event_share"] = Ratio(tl.future_events, tl.events);
  m["old_event_share"] = Ratio(tl.very_old_events, tl.events);

  m["bot_user_count"] = static_cast<double>(an.bot_users);
  m["bot_user_share"] = Ratio(an.bot_users, an.users);
  m["bot_user_event_share"] = Ratio(an.bot_user_events, r->events);
  m["bot_user_view_share"] = Ratio(an.bot_user_views, an.total_views);
  m["bot_session_count"] = static_cast<double>(an.bot_sessions);
  m["bot_session_share"] = Ratio(an.bot_sessions, an.sessions);
  m["bot_session_event_share"] = Ratio(an.bot_session_events, r->events);
  m["no_dwell_view_share"] = Ratio(an.views_without_dwell, an.views_measured);
  m["extreme_session_count"] = static_cast<double>(an.extreme_sessions);
  m["session_length_p999"] = an.sessions > 0 ? an.session_length_p999 : kNaN;

  const auto& pop = r->popularity;
  const bool has_items = pop.items > 0;
  m["gini"] = has_items ? pop.gini : kNaN;
  m["top1_share"] = pop.interactions > 0 ? pop.top1_share : kNaN;
  m["top20_share"] = pop.interactions > 0 ? pop.top20_share : kNaN;
  m["long_tail_share"] = pop.interactions > 0 ? pop.long_tail_interaction_share : kNaN;
  m["long_tail_item_share"] = pop.interactions > 0 ? pop.long_tail_item_share : kNaN;

  m["cold_item_share"] = Ratio(r->cold_start.cold_items, r->cold_start.items);
  m["cold_user_share"] = Ratio(r->cold_start.cold_users, r->cold_start.users);

  m["quarantine_count"] = static_cast<double>(r->quarantine.total);
  m["quarantine_share"] = r->quarantine.share;
}

}  // namespace internal

StatusOr<std::vector<MetricCondition>> ParseFailOn(std::string_view expr) {
  const auto& names = QualityMetricNames();
  std::vector<MetricCondition> out;
  size_t pos = 0;
  while (pos <= expr.size()) {
    size_t comma = expr.find(',', pos);
    if (comma == std::string_view::npos) comma = expr.size();
    const std::string_view text = Trim(expr.substr(pos, comma - pos));
    pos = comma + 1;
    if (text.empty()) continue;
    const size_t op_at = text.find_first_of("<>=!");
    if (op_at == std::string_view::npos) {
      return InvalidArgumentError(fmt::format(
          "--fail-on condition '{}' has no comparison: expected METRIC<VALUE, METRIC>VALUE, <=, >=, == or !=",
          text));
    }
    MetricCondition c;
    c.text = std::string(text);
    c.metric = std::string(Trim(text.substr(0, op_at)));
    std::string_view rest = text.substr(op_at);
    static constexpr std::pair<std::string_view, CompareOp> kOps[] = {
        {"<=", CompareOp::kLessEqual}, {">=", CompareOp::kGreaterEqual}, {"==", CompareOp::kEqual},
        {"!=", CompareOp::kNotEqual},  {"<", CompareOp::kLess},          {">", CompareOp::kGreater},
        {"=", CompareOp::kEqual}};
    bool matched = false;
    for (const auto& [tok, op] : kOps) {
      if (rest.substr(0, tok.size()) == tok) {
        c.op = op;
        rest.remove_prefix(tok.size());
        matched = true;
        break;
      }
    }
    if (!matched) {
      return InvalidArgumentError(fmt::format("--fail-on condition '{}': unknown comparison", text));
    }
    rest = Trim(rest);
    double value = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (ec != std::errc() || end != rest.data() + rest.size() || rest.empty() || !std::isfinite(value)) {
      return InvalidArgumentError(
          fmt::format("--fail-on condition '{}': threshold '{}' is not a number", text, rest));
    }
    c.threshold = value;
    if (c.metric.empty()) {
      return InvalidArgumentError(fmt::format("--fail-on condition '{}' names no metric", text));
    }
    if (!std::binary_search(names.begin(), names.end(), c.metric)) {
      return InvalidArgumentError(fmt::format("--fail-on: unknown metric '{}'; valid metrics: {}", c.metric,
                                              fmt::join(names, ", ")));
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<ConditionResult> EvaluateConditions(const std::vector<MetricCondition>& conditions,
                                                const std::map<std::string, double>& metrics) {
  std::vector<ConditionResult> out;
  for (const auto& c : conditions) {
    ConditionResult r;
    r.condition = c;
    const auto it = metrics.find(c.metric);
    r.value = it == metrics.end() ? kNaN : it->second;
    if (std::isnan(r.value)) {
      r.not_available = true;
      r.message = fmt::format("{} is n/a (nothing to measure); condition '{}' not checked", c.metric, c.text);
      out.push_back(std::move(r));
      continue;
    }
    switch (c.op) {
      case CompareOp::kLess: r.violated = r.value < c.threshold; break;
      case CompareOp::kLessEqual: r.violated = r.value <= c.threshold; break;
      case CompareOp::kGreater: r.violated = r.value > c.threshold; break;
      case CompareOp::kGreaterEqual: r.violated = r.value >= c.threshold; break;
      case CompareOp::kEqual: r.violated = r.value == c.threshold; break;
      case CompareOp::kNotEqual: r.violated = r.value != c.threshold; break;
    }
    r.message = r.violated ? fmt::format("{} = {:.6g} {} {:.6g} (threshold): FAILED", c.metric, r.value,
                                         OpText(c.op), c.threshold)
                           : fmt::format("{} = {:.6g} (fails when {} {:.6g}): ok", c.metric, r.value,
                                         OpText(c.op), c.threshold);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace souk::quality
