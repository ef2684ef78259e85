#include "eval/unisrec_protocol.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "eval/metrics.h"
#include "eval/rec_blend.h"
#include "eval/rec_cold_slots.h"
#include "eval/rec_metrics.h"
#include "eval/sequential.h"
#include "eval/splits.h"

namespace souk::eval {
namespace {

using recommend::InteractionData;

constexpr int64_t kDayMs = 86'400'000;

// Metric accumulators of one variant over a set of rows.
struct RowMetrics {
  MeanAccumulator recall10, ndcg10, recall50, cold_recall10, cold_ndcg10;

  void Add(int64_t rank, bool cold) {
    recall10.Add(SingleTargetHitAtK(rank, 10));
    ndcg10.Add(SingleTargetNdcgAtK(rank, 10));
    recall50.Add(SingleTargetHitAtK(rank, 50));
    if (cold) {
      cold_recall10.Add(SingleTargetHitAtK(rank, 10));
      cold_ndcg10.Add(SingleTargetNdcgAtK(rank, 10));
    }
  }
  std::map<std::string, double> ToMap() const {
    return {{"recall@10", recall10.Mean()},
            {"ndcg@10", ndcg10.Mean()},
            {"recall@50", recall50.Mean()},
            {"cold_recall@10", cold_recall10.Mean()},
            {"cold_ndcg@10", cold_ndcg10.Mean()},
            {"n_cold", static_cast<double>(cold_recall10.count())}};
  }
};

recommend::RecommendRequest RequestFor(std::span<const int32_t> history) {
  recommend::RecommendRequest req;
  req.scenario = "next";
  req.user = -1;  // the row's history is the whole context (test rows extend the fit's)
  req.history.reserve(history.size());
  for (size_t p = 0; p < history.size(); ++p) {
    req.history.push_back({.item = history[p],
                           .type = recommend::EventType::kPurchase,
                           .timestamp_ms = static_cast<int64_t>(p) * kDayMs,
                           .quantity = 1});
  }
  req.now_ms = static_cast<int64_t>(history.size()) * kDayMs;
  req.n = 50;
  return req;
}

std::vector<std::vector<int32_t>> WithoutItems(std::span<const std::vector<int32_t>> seqs,
                                               const std::vector<uint8_t>& drop) {
  std::vector<std::vector<int32_t>> out(seqs.size());
  for (size_t u = 0; u < seqs.size(); ++u) {
    for (int32_t item : seqs[u]) {
      if (!drop[item]) out[u].push_back(item);
    }
  }
  return out;
}

// An evaluation row after the cold rule: history as the model sees it.
struct EvalRow {
  std::vector<int32_t> history;
  int32_t target = -1;
  bool cold = false;
};

}  // namespace

bool IsUnisrecColdItem(int32_t item) { return IsColdItemToken(std::to_string(item)); }

UnisrecProtocol::UnisrecProtocol(std::shared_ptr<const recommend::SourceRegistry> sources,
                                 UnisrecOptions options)
    : sources_(std::move(sources)), options_(std::move(options)) {}

StatusOr<EvalReport> UnisrecProtocol::Run(const EvalContext& ctx) {
  const std::string& dir = ctx.inputs.dir;
  RETURN_IF_ERROR(RequireInputPath("--dir", dir, Name(), /*want_dir=*/true));
  ASSIGN_OR_RETURN(UnisrecDataset data, ReadUnisrecDir(dir));
  if (data.test.empty()) {
    return InvalidArgumentError(fmt::format("--dir: {} has no test rows", dir));
  }
  const int32_t n = data.num_items();
  auto note = [&](const std::string& line) {
    if (ctx.progress.mode != ProgressMode::kOff) fmt::print(stderr, "amazon-unisrec: {}\n", line);
  };

  // Cold items (EVAL.md C) and the disjoint simulated-cold items used for tuning.
  std::vector<uint8_t> cold(n, 0), tuning_drop(n, 0);
  int64_t num_cold = 0;
  for (int32_t i = 0; i < n; ++i) {
    cold[i] = IsUnisrecColdItem(i) ? 1 : 0;
    num_cold += cold[i];
    tuning_drop[i] = cold[i] || Fnv1a64(std::to_string(i)) % 10 == 1;
  }
  note(fmt::format("{} items ({} cold), {} users; train/valid/test rows {}/{}/{}", n, num_cold,
                   data.num_users(), data.train.size(), data.valid.size(), data.test.size()));

  const std::vector<std::vector<int32_t>> train_seqs =
      WithoutItems(UnisrecTrainSequences(data), cold);
  std::vector<EvalRow> valid_rows, test_rows;
  for (const UnisrecRow& row : data.valid) {
    if (cold[row.target]) continue;  // validation interactions with cold items are dropped
    EvalRow r;
    for (int32_t item : row.history) {
      if (!cold[item]) r.history.push_back(item);
    }
    r.target = row.target;
    valid_rows.push_back(std::move(r));
  }
  for (const UnisrecRow& row : data.test) {
    test_rows.push_back({row.history, row.target, cold[row.target] != 0});
  }

  EvalReport report;
  report.dataset = data.name;
  report.extra = nlohmann::json::object();

  // Blend members, fitted on `seqs`.
  auto fit = [&](std::span<const std::vector<int32_t>> seqs,
                 std::string_view label) -> StatusOr<SourceBlend> {
    InteractionData idata = UnisrecInteractions(data, seqs);
    SourceBlend blend;
    RETURN_IF_ERROR(blend.Fit(*sources_, options_.sources, options_.content_source,
                              std::move(idata), ctx.progress, note, label));
    return blend;
  };

  // 1. Tuning on the validation rows with simulated cold items.
  std::vector<float> weights;
  ColdSlotConfig cold_slot_config;  // none until tuned
  bool use_cold_slots = false;
  {
    const std::vector<std::vector<int32_t>> tuning_seqs = WithoutItems(train_seqs, tuning_drop);
    ASSIGN_OR_RETURN(SourceBlend tuning, fit(tuning_seqs, "tuning fit"));
    weights = tuning.DefaultWeights();
    if (options_.tune_weights) {
      std::vector<BlendSample> samples;
      samples.reserve(valid_rows.size());
      Progress bar("amazon-unisrec tuning rows", valid_rows.size(), ctx.progress);
      BlendScratch scratch;
      for (const EvalRow& row : valid_rows) {
        tuning.Score(RequestFor(row.history), &scratch);
        const int32_t target[] = {row.target};
        samples.push_back(tuning.Sample(scratch, row.history, target,
                                        options_.pool_per_source, /*exclude_history=*/true));
        bar.Add(1);
      }
      bar.Finish();
      const BlendTuningOptions grid = tuning.TuningOptions();
      weights = TuneBlendWeights(samples, weights, 10, grid, note);
      if (tuning.has_cold_terms() && options_.cold_tolerance > 0) {
        // Cold terms: the best quality on the simulated-cold rows among the
        // settings that keep the overall quality within the tolerance.
        std::vector<BlendSample> cold_samples;
        for (size_t r = 0; r < valid_rows.size(); ++r) {
          if (tuning_drop[valid_rows[r].target]) cold_samples.push_back(samples[r]);
        }
        auto sum = [](const SetRankingMetrics& m) { return m.recall + m.ndcg; };
        const double floor = (1 - options_.cold_tolerance) * sum(EvaluateBlend(samples, weights, 10));
        const size_t cc = tuning.num_columns(), cb = cc + 1;
        std::vector<float> cc_values = grid.grid, cb_values = grid.grid;
        cc_values.insert(cc_values.end(), grid.extra_values[cc].begin(), grid.extra_values[cc].end());
        cb_values.insert(cb_values.end(), grid.extra_values[cb].begin(), grid.extra_values[cb].end());
        double best_cold = sum(EvaluateBlend(cold_samples, weights, 10));
        for (float x : cc_values) {
          for (float y : cb_values) {
            std::vector<float> trial = weights;
            trial[cc] = x;
            trial[cb] = y;
            const double cold_value = sum(EvaluateBlend(cold_samples, trial, 10));
            if (cold_value <= best_cold + 1e-9) continue;
            if (sum(EvaluateBlend(samples, trial, 10)) < floor) continue;
            best_cold = cold_value;
            weights = trial;
          }
        }
        note(fmt::format("cold terms {}, {}: simulated-cold rows recall+ndcg@10 {:.4f}",
                         weights[cc], weights[cb], best_cold));
      }
      const SetRankingMetrics tuned = EvaluateBlend(samples, weights, 10);
      int64_t simulated = 0;
      for (const EvalRow& row : valid_rows) simulated += tuning_drop[row.target];
      report.extra["tuning_valid_recall@10"] = tuned.recall;
      report.extra["tuning_valid_ndcg@10"] = tuned.ndcg;
      report.extra["tuning_valid_simulated_cold_rows"] = simulated;
    }
    report.extra["weights"] = tuning.WeightsJson(weights);
    note(fmt::format("blend weights {}", report.extra["weights"].dump()));

    if (options_.cold_slots && tuning.has_cold_terms()) {
      // Cold slots on the validation rows: the candidates are the simulated-cold
      // items (in test every no-data item is cold and may be a target).
      const std::vector<float> warm_weights = tuning.WithoutColdTerms(weights);
      std::vector<uint8_t> candidate(n, 0), mask(n, 0);
      for (int32_t i = 0; i < n; ++i) {
        candidate[i] = tuning.no_data_items()[i] && !cold[i] ? 1 : 0;
      }
      const std::vector<ColdSlotConfig> grid = ColdSlotGrid(options_.cold_slot_thresholds);
      int max_slots = 0;
      for (const ColdSlotConfig& c : grid) max_slots = std::max<int>(max_slots, c.slots.size());
      std::vector<ColdSlotRow> slot_rows;
      slot_rows.reserve(valid_rows.size());
      BlendScratch scratch;
      std::vector<float> warm(n);
      Progress bar("amazon-unisrec cold slot rows", valid_rows.size(), ctx.progress);
      for (const EvalRow& row : valid_rows) {
        tuning.Score(RequestFor(row.history), &scratch);
        tuning.Combine(scratch, warm_weights, warm);
        for (int32_t item : row.history) mask[item] = 1;
        slot_rows.push_back(MakeColdSlotRow(warm, scratch.z[tuning.content_index()], candidate,
                                            mask, row.target, max_slots));
        for (int32_t item : row.history) mask[item] = 0;
        bar.Add(1);
      }
      bar.Finish();
      struct Value {
        double overall = 0, cold = 0, recall50 = 0;
      };
      auto value_of = [&](const ColdSlotConfig& config) {
        Value v;
        int64_t cold_rows = 0;
        for (const ColdSlotRow& row : slot_rows) {
          const int64_t rank = RankWithColdSlots(row, config);
          const double r10 = SingleTargetHitAtK(rank, 10), n10 = SingleTargetNdcgAtK(rank, 10);
          const double r50 = SingleTargetHitAtK(rank, 50);
          v.overall += r10 + n10 + r50;
          v.recall50 += r50;
          if (row.target_is_cold) {
            v.cold += r10 + n10;
            ++cold_rows;
          }
        }
        const double rows = std::max<double>(1, static_cast<double>(slot_rows.size()));
        v.overall /= rows;
        v.recall50 /= rows;
        v.cold /= std::max<double>(1, static_cast<double>(cold_rows));
        return v;
      };
      const Value base = value_of(grid[0]);
      Value best = base;
      for (const ColdSlotConfig& config : grid) {
        const Value v = value_of(config);
        if (v.overall < (1 - options_.cold_slot_tolerance) * base.overall) continue;
        if (v.cold > best.cold + 1e-12 ||
            (std::abs(v.cold - best.cold) <= 1e-12 && v.overall > best.overall + 1e-12)) {
          best = v;
          cold_slot_config = config;
        }
      }
      note(fmt::format("cold slots: {}; validation overall recall@10+ndcg@10+recall@50 {:.4f} "
                       "(none: {:.4f}), recall@50 {:.4f} (none: {:.4f}), simulated-cold "
                       "recall+ndcg@10 {:.4f} (none: {:.4f})",
                       cold_slot_config.ToString(), best.overall, base.overall, best.recall50,
                       base.recall50, best.cold, base.cold));
      report.extra["cold_slots"] = cold_slot_config.ToString();
      report.extra["cold_slots_valid_overall"] = best.overall;
      report.extra["cold_slots_valid_simulated_cold"] = best.cold;
      use_cold_slots = true;
    }
  }

  // 2. Final fit on every training row without the cold items.
  ASSIGN_OR_RETURN(SourceBlend final_blend, fit(train_seqs, "final fit"));
  std::vector<float> no_cold_weights = final_blend.WithoutColdTerms(weights);

  // Popularity as in protocol B: occurrences in the training sequences.
  std::vector<float> popularity(n, 0.f);
  for (const auto& seq : train_seqs) {
    for (int32_t item : seq) popularity[item] += 1;
  }

  auto evaluate = [&](const std::vector<EvalRow>& rows, std::string_view label,
                      std::map<std::string, RowMetrics>* out) {
    std::vector<uint8_t> mask(n, 0), history_mask(n, 0);
    std::vector<float> scores(n), placed(n);
    BlendScratch scratch;
    Progress bar(fmt::format("amazon-unisrec {} rows", label), rows.size(), ctx.progress);
    for (const EvalRow& row : rows) {
      final_blend.Score(RequestFor(row.history), &scratch);
      (*out)["popularity"].Add(RankOfTarget(popularity, row.target, row.history, mask), row.cold);
      for (size_t m = 0; m < final_blend.num_members(); ++m) {
        (*out)[final_blend.member_name(m)].Add(
            RankOfTarget(scratch.z[m], row.target, row.history, mask), row.cold);
      }
      final_blend.Combine(scratch, weights, scores);
      (*out)["blend"].Add(RankOfTarget(scores, row.target, row.history, mask), row.cold);
      if (final_blend.has_cold_terms()) {
        final_blend.Combine(scratch, no_cold_weights, scores);
        (*out)["blend_no_cold_terms"].Add(RankOfTarget(scores, row.target, row.history, mask),
                                          row.cold);
        if (use_cold_slots) {
          for (int32_t item : row.history) history_mask[item] = 1;
          PlaceColdItems(scores, scratch.z[final_blend.content_index()],
                         final_blend.no_data_items(), history_mask, cold_slot_config, placed);
          for (int32_t item : row.history) history_mask[item] = 0;
          (*out)["blend_cold_slots"].Add(RankOfTarget(placed, row.target, row.history, mask),
                                         row.cold);
        }
      }
      bar.Add(1);
    }
    bar.Finish();
  };

  std::map<std::string, RowMetrics> on_test, on_valid;
  evaluate(test_rows, "test", &on_test);
  evaluate(valid_rows, "valid", &on_valid);
  for (const auto& [name, m] : on_test) report.ablations[name] = m.ToMap();
  for (const auto& [name, m] : on_valid) {
    std::map<std::string, double> values = m.ToMap();
    // Validation rows never have a cold target (they are dropped).
    values.erase("cold_recall@10");
    values.erase("cold_ndcg@10");
    values.erase("n_cold");
    values["n_rows"] = static_cast<double>(m.recall10.count());
    report.ablations[name + "_valid"] = std::move(values);
  }
  const std::string engine =
      use_cold_slots && report.ablations.count("blend_cold_slots") ? "blend_cold_slots" : "blend";
  report.metrics = report.ablations[engine];
  report.extra["engine"] = engine;
  report.extra["n_test_rows"] = test_rows.size();
  report.extra["n_valid_rows"] = valid_rows.size();
  report.extra["n_cold_items"] = num_cold;
  report.extra["members"] = final_blend.MemberNames();
  return report;
}

}  // namespace souk::eval
