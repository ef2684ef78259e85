#include "eval/sequential.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "eval/metrics.h"
#include "eval/splits.h"

namespace souk::eval {

StatusOr<SequenceDataset> ParseSequenceText(std::string_view text, std::string_view source_name) {
  std::vector<std::vector<int64_t>> raw;
  std::vector<int64_t> users;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    std::vector<int64_t> tokens;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      if (i >= line.size()) break;
      size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
      int64_t v = 0;
      auto r = std::from_chars(line.data() + i, line.data() + j, v);
      if (r.ec != std::errc() || r.ptr != line.data() + j || v < 0) {
        return DataLossError(fmt::format("{}:{}: '{}' is not a non-negative integer id",
                                         source_name, line_no, line.substr(i, j - i)));
      }
      tokens.push_back(v);
      i = j;
    }
    if (tokens.empty()) continue;
    users.push_back(tokens[0]);
    raw.emplace_back(tokens.begin() + 1, tokens.end());
  }

  SequenceDataset data;
  for (const auto& seq : raw) data.item_ids.insert(data.item_ids.end(), seq.begin(), seq.end());
  std::sort(data.item_ids.begin(), data.item_ids.end());
  data.item_ids.erase(std::unique(data.item_ids.begin(), data.item_ids.end()), data.item_ids.end());
  std::unordered_map<int64_t, int32_t> dense;
  dense.reserve(data.item_ids.size());
  for (size_t i = 0; i < data.item_ids.size(); ++i)
    dense[data.item_ids[i]] = static_cast<int32_t>(i);

  data.user_ids = std::move(users);
  data.sequences.reserve(raw.size());
  for (const auto& seq : raw) {
    std::vector<int32_t> s;
    s.reserve(seq.size());
    for (int64_t item : seq) s.push_back(dense.at(item));
    data.sequences.push_back(std::move(s));
  }
  return data;
}

StatusOr<SequenceDataset> ReadSequenceFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(fmt::format("cannot open sequence file {}", path));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return DataLossError(fmt::format("error reading {}", path));
  return ParseSequenceText(buffer.str(), path);
}

Status PopularityScorer::Fit(std::span<const std::vector<int32_t>> train_sequences,
                             int32_t num_items) {
  counts_.assign(static_cast<size_t>(std::max(num_items, 0)), 0.0f);
  for (const auto& seq : train_sequences) {
    for (int32_t item : seq) {
      if (item < 0 || item >= num_items) {
        return InvalidArgumentError(
            fmt::format("popularity: item index {} outside [0, {})", item, num_items));
      }
      counts_[item] += 1.0f;
    }
  }
  return OkStatus();
}

void PopularityScorer::ScoreAll(std::span<const int32_t> history, std::span<float> scores) const {
  std::copy(counts_.begin(), counts_.end(), scores.begin());
}

int64_t RankOfTarget(std::span<const float> scores, int32_t target,
                     std::span<const int32_t> history, std::vector<uint8_t>& mask) {
  for (int32_t h : history) mask[h] = 1;
  mask[target] = 0;
  const float st = scores[target];
  int64_t ahead = 0;
  const int32_t n = static_cast<int32_t>(scores.size());
  for (int32_t j = 0; j < n; ++j) {
    if (mask[j] || j == target) continue;
    const float s = scores[j];
    ahead += (s > st || (s == st && j < target)) ? 1 : 0;
  }
  for (int32_t h : history) mask[h] = 0;
  return ahead + 1;
}

std::vector<std::vector<int32_t>> LeaveOneOutTrainParts(const SequenceDataset& data) {
  std::vector<std::vector<int32_t>> train;
  train.reserve(data.sequences.size());
  for (const auto& seq : data.sequences) {
    const LeaveOneOut split = SplitLeaveOneOut(seq);
    train.emplace_back(split.train.begin(), split.train.end());
  }
  return train;
}

std::vector<int32_t> LeaveOneOutValidTargets(const SequenceDataset& data) {
  std::vector<int32_t> valid;
  valid.reserve(data.sequences.size());
  for (const auto& seq : data.sequences) {
    valid.push_back(SplitLeaveOneOut(seq).valid.value_or(-1));
  }
  return valid;
}

std::map<std::string, double> EvaluateSequential(const SequenceDataset& data,
                                                 const SequenceScorer& scorer,
                                                 LeaveOneOutTarget target,
                                                 const ProgressOptions& progress) {
  const int32_t n_items = data.num_items();
  std::vector<float> scores(static_cast<size_t>(n_items));
  std::vector<uint8_t> mask(static_cast<size_t>(n_items), 0);
  MeanAccumulator hr10, ndcg10, hr20, ndcg20;
  ProgressOptions options = progress;
  options.unit = "users";
  Progress bar(fmt::format("{} {} targets", scorer.Name(),
                           target == LeaveOneOutTarget::kTest ? "test" : "valid"),
               data.sequences.size(), options);
  for (const auto& seq : data.sequences) {
    bar.Add(1);
    const LeaveOneOut split = SplitLeaveOneOut(seq);
    const std::optional<int32_t> item =
        target == LeaveOneOutTarget::kTest ? split.test : split.valid;
    if (!item) continue;
    const auto history =
        target == LeaveOneOutTarget::kTest ? split.history_before_test : split.history_before_valid;
    scorer.ScoreAll(history, scores);
    const int64_t rank = RankOfTarget(scores, *item, history, mask);
    hr10.Add(SingleTargetHitAtK(rank, 10));
    ndcg10.Add(SingleTargetNdcgAtK(rank, 10));
    hr20.Add(SingleTargetHitAtK(rank, 20));
    ndcg20.Add(SingleTargetNdcgAtK(rank, 20));
  }
  bar.Finish();
  return {{"hr@10", hr10.Mean()},
          {"ndcg@10", ndcg10.Mean()},
          {"hr@20", hr20.Mean()},
          {"ndcg@20", ndcg20.Mean()},
          {"n_users", static_cast<double>(hr10.count())}};
}

AmazonSeqProtocol::AmazonSeqProtocol() {
  models_.emplace_back("popularity", [] { return std::make_unique<PopularityScorer>(); });
}

Status AmazonSeqProtocol::AddModel(std::string name, ScorerFactory factory) {
  for (const auto& [n, f] : models_) {
    if (n == name) return AlreadyExistsError(fmt::format("amazon-seq: model {} added twice", name));
  }
  models_.emplace_back(std::move(name), std::move(factory));
  return OkStatus();
}

std::vector<std::string> AmazonSeqProtocol::ModelNames() const {
  std::vector<std::string> names;
  for (const auto& [n, f] : models_) names.push_back(n);
  return names;
}

void AmazonSeqProtocol::AddOptions(CLI::App* cmd) {
  cmd->add_option("--seq-model", model_,
                  fmt::format("amazon-seq: model to evaluate ({})", fmt::join(ModelNames(), ", ")))
      ->capture_default_str();
}

StatusOr<EvalReport> AmazonSeqProtocol::Run(const EvalContext& ctx) {
  if (ctx.inputs.data.size() > 1) {
    return InvalidArgumentError(fmt::format(
        "--data is given {} times; protocol amazon-seq reads one file", ctx.inputs.data.size()));
  }
  const std::string path = ctx.inputs.data.empty() ? std::string() : ctx.inputs.data[0];
  RETURN_IF_ERROR(RequireInputPath("--data", path, Name()));

  const ScorerFactory* factory = nullptr;
  for (const auto& [n, f] : models_) {
    if (n == model_) factory = &f;
  }
  if (factory == nullptr) {
    return InvalidArgumentError(fmt::format("--seq-model: unknown model '{}'; known: {}", model_,
                                            fmt::join(ModelNames(), ", ")));
  }

  ASSIGN_OR_RETURN(SequenceDataset data, ReadSequenceFile(path));
  if (data.num_items() == 0) {
    return InvalidArgumentError(fmt::format("--data: {} holds no item sequences", path));
  }
  const std::vector<std::vector<int32_t>> train = LeaveOneOutTrainParts(data);

  EvalReport report;
  report.dataset = DatasetName(path);

  PopularityScorer popularity;
  RETURN_IF_ERROR(popularity.Fit(train, data.num_items()));
  report.ablations["popularity"] =
      EvaluateSequential(data, popularity, LeaveOneOutTarget::kTest, ctx.progress);
  report.ablations["popularity_valid"] =
      EvaluateSequential(data, popularity, LeaveOneOutTarget::kValid, ctx.progress);

  if (model_ == "popularity") {
    report.metrics = report.ablations["popularity"];
  } else {
    std::unique_ptr<SequenceScorer> scorer = (*factory)();
    const std::vector<int32_t> valid_targets = LeaveOneOutValidTargets(data);
    scorer->SetValidationTargets(valid_targets);
    RETURN_IF_ERROR(scorer->Fit(train, data.num_items()).WithContext(model_));
    report.metrics = EvaluateSequential(data, *scorer, LeaveOneOutTarget::kTest, ctx.progress);
    report.ablations[model_ + "_valid"] =
        EvaluateSequential(data, *scorer, LeaveOneOutTarget::kValid, ctx.progress);
  }
  return report;
}

}  // namespace souk::eval
