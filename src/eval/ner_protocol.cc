#include "eval/ner_protocol.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <set>

namespace souk::eval {

using search::EntityMatchStats;
using search::TaggedSentence;

std::map<std::string, double> NerMetrics(const EntityMatchStats& stats,
                                         const std::vector<std::string>& types,
                                         size_t n_sentences) {
  std::map<std::string, double> m;
  m["precision"] = stats.micro().precision();
  m["recall"] = stats.micro().recall();
  m["f1"] = stats.micro().f1();
  std::set<std::string> all(types.begin(), types.end());
  for (const auto& [type, counts] : stats.by_type()) all.insert(type);
  for (const std::string& type : all) {
    const search::EntityCounts c = stats.ForType(type);
    m["precision_" + type] = c.precision();
    m["recall_" + type] = c.recall();
    m["f1_" + type] = c.f1();
  }
  m["n_sentences"] = static_cast<double>(n_sentences);
  m["n_entities"] = static_cast<double>(stats.micro().gold);
  return m;
}

EntityMatchStats ScoreTagger(const search::EntityTagger& tagger,
                             const std::vector<TaggedSentence>& gold) {
  EntityMatchStats stats;
  for (const TaggedSentence& s : gold) {
    stats.Add(search::EntitiesFromTags(s.chars, s.tags),
              search::EntitiesFromTags(s.chars, tagger.PredictTags(s.chars)));
  }
  return stats;
}

EntityMatchStats ScoreLongestMatch(const search::Gazetteer& gazetteer,
                                   const std::vector<TaggedSentence>& gold) {
  EntityMatchStats stats;
  for (const TaggedSentence& s : gold) {
    std::u32string folded;
    std::vector<uint32_t> byte_offset{0};  // byte offset of each char in the concatenation
    for (const std::string& c : s.chars) {
      const std::u32string f = search::FoldText(c);
      folded.push_back(f.empty() ? char32_t{0xFFFD} : f[0]);
      byte_offset.push_back(byte_offset.back() + static_cast<uint32_t>(c.size()));
    }
    std::vector<search::TaggedEntity> predicted;
    for (const search::Gazetteer::Match& m :
         gazetteer.LongestMatches(folded, gazetteer.max_length())) {
      search::TaggedEntity e;
      e.type = gazetteer.types()[m.type];
      e.begin = byte_offset[m.begin];
      e.end = byte_offset[m.end];
      for (uint32_t i = m.begin; i < m.end; ++i) e.text += s.chars[i];
      predicted.push_back(std::move(e));
    }
    stats.Add(search::EntitiesFromTags(s.chars, s.tags), predicted);
  }
  return stats;
}

StatusOr<std::pair<std::string, std::string>> ParseGazetteerFlag(std::string_view value) {
  const size_t eq = value.find('=');
  if (eq != std::string_view::npos && eq > 0 &&
      value.substr(0, eq).find('/') == std::string_view::npos) {
    const std::string type(value.substr(0, eq));
    const std::string path(value.substr(eq + 1));
    if (path.empty()) {
      return InvalidArgumentError(fmt::format("--gazetteer {}: empty path after TYPE=", value));
    }
    return std::make_pair(type, path);
  }
  const std::string path(value);
  std::string name = std::filesystem::path(path).filename().string();
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (name.find("brand") != std::string::npos) return std::make_pair(std::string("HP"), path);
  if (name.find("product") != std::string::npos) return std::make_pair(std::string("HC"), path);
  return InvalidArgumentError(
      fmt::format("--gazetteer {}: cannot tell the entity type from the file name; use TYPE=PATH "
                  "(e.g. HP=brands.txt)",
                  value));
}

void NerProtocol::AddOptions(CLI::App* cmd) {
  cmd->add_option("--ner-epochs", epochs_,
                  "cn-ner: training passes of the tagger (the best on --dev is kept; 0 = default)");
  cmd->add_option("--ner-model-out", model_out_, "cn-ner: save the trained tagger to this path");
}

namespace {

struct ReadSet {
  std::vector<TaggedSentence> sentences;
  search::BieosReadStats stats;
};

StatusOr<ReadSet> ReadSplit(std::string_view flag, const std::string& path) {
  ReadSet out;
  search::BieosReadOptions options;
  options.repair_invalid = true;  // the published train file has one broken sentence
  ASSIGN_OR_RETURN(out.sentences, search::ReadBieos(path, options, &out.stats));
  if (out.sentences.empty()) {
    return InvalidArgumentError(fmt::format("{} {}: no sentences", flag, path));
  }
  if (out.stats.repaired_sentences > 0) {
    spdlog::warn("{} {}: repaired {} sentence(s) with an invalid BIEOS sequence (first at line {})",
                 flag, path, out.stats.repaired_sentences, out.stats.repaired_lines.front());
  }
  return out;
}

nlohmann::json SplitJson(const std::string& path, const ReadSet& set) {
  return {{"path", path},
          {"sentences", set.stats.sentences},
          {"chars", set.stats.chars},
          {"repaired_sentences", set.stats.repaired_sentences},
          {"repaired_lines", set.stats.repaired_lines}};
}

double ThreadCpuMicros() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// Mean microseconds per Tag() call on queries of at most 20 characters cut from
// the scored sentences (after a warm-up pass), as {wall, thread CPU}. CPU time
// is the single-thread cost even when the machine is shared.
std::pair<double, double> TagLatencyMicros(const search::EntityTagger& tagger,
                                           const std::vector<TaggedSentence>& sentences) {
  std::vector<std::string> queries;
  for (const TaggedSentence& s : sentences) {
    std::string q;
    for (size_t i = 0; i < s.chars.size() && i < 20; ++i) q += s.chars[i];
    queries.push_back(std::move(q));
  }
  if (queries.empty()) return {0, 0};
  size_t sink = 0;
  for (const std::string& q : queries) sink += tagger.Tag(q).size();
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = ThreadCpuMicros();
  size_t calls = 0;
  while (calls < 2000) {
    for (const std::string& q : queries) {
      sink += tagger.Tag(q).size();
      ++calls;
    }
  }
  const double cpu = ThreadCpuMicros() - c0;
  const double wall =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  if (sink == static_cast<size_t>(-1)) spdlog::debug("unreachable");
  return {wall / static_cast<double>(calls), cpu / static_cast<double>(calls)};
}

}  // namespace

StatusOr<EvalReport> NerProtocol::Run(const EvalContext& ctx) {
  const EvalInputs& in = ctx.inputs;
  RETURN_IF_ERROR(RequireInputPath("--train", in.train, Name()));
  RETURN_IF_ERROR(RequireInputPath("--dev", in.dev, Name()));
  if (!in.test.empty()) RETURN_IF_ERROR(RequireInputPath("--test", in.test, Name()));
  if (epochs_ < 0) {
    return InvalidArgumentError(fmt::format("--ner-epochs must be >= 0, got {}", epochs_));
  }

  ASSIGN_OR_RETURN(ReadSet train, ReadSplit("--train", in.train));
  ASSIGN_OR_RETURN(ReadSet dev, ReadSplit("--dev", in.dev));
  ReadSet test;
  if (!in.test.empty()) {
    ASSIGN_OR_RETURN(test, ReadSplit("--test", in.test));
  }

  search::Gazetteer gaz;
  nlohmann::json gaz_json = nlohmann::json::array();
  for (const std::string& value : in.gazetteers) {
    ASSIGN_OR_RETURN(auto type_path, ParseGazetteerFlag(value));
    RETURN_IF_ERROR(RequireInputPath("--gazetteer", type_path.second, Name()));
    const size_t before = gaz.size();
    RETURN_IF_ERROR(gaz.LoadFile(type_path.first, type_path.second));
    gaz_json.push_back(
        {{"type", type_path.first}, {"path", type_path.second}, {"entries", gaz.size() - before}});
  }

  search::TaggerOptions options;
  if (epochs_ > 0) options.epochs = epochs_;
  spdlog::info("cn-ner: training the entity tagger on {} sentences ({} gazetteer entries)",
               train.sentences.size(), gaz.size());
  ASSIGN_OR_RETURN(auto tagger, search::EntityTagger::Train(train.sentences, &dev.sentences, gaz,
                                                            options, &ctx.progress));
  search::TaggerOptions plain = options;
  plain.use_gazetteer = false;
  spdlog::info("cn-ner: training the no-gazetteer ablation");
  ASSIGN_OR_RETURN(auto no_gaz, search::EntityTagger::Train(train.sentences, &dev.sentences, gaz,
                                                            plain, &ctx.progress));
  if (!model_out_.empty()) {
    RETURN_IF_ERROR(tagger->Save(model_out_));
    spdlog::info("cn-ner: tagger saved to {}", model_out_);
  }

  // Baseline gazetteers: every training entity, with and without the dictionaries.
  search::Gazetteer train_gaz;
  for (const TaggedSentence& s : train.sentences) {
    for (const search::TaggedEntity& e : search::EntitiesFromTags(s.chars, s.tags)) {
      train_gaz.Add(e.type, e.text);
    }
  }
  search::Gazetteer baseline_gaz = gaz;
  baseline_gaz.Merge(train_gaz);

  const bool on_test = !in.test.empty();
  const ReadSet& scored = on_test ? test : dev;
  const std::string& scored_path = on_test ? in.test : in.dev;
  const std::vector<std::string>& types = tagger->types();
  const size_t n = scored.sentences.size();

  EvalReport report;
  report.dataset = DatasetName(scored_path);
  report.metrics = NerMetrics(ScoreTagger(*tagger, scored.sentences), types, n);
  report.ablations["no_gazetteer"] = NerMetrics(ScoreTagger(*no_gaz, scored.sentences), types, n);
  report.ablations["gazetteer_longest_match"] =
      NerMetrics(ScoreLongestMatch(baseline_gaz, scored.sentences), types, n);
  report.ablations["training_entities_longest_match"] =
      NerMetrics(ScoreLongestMatch(train_gaz, scored.sentences), types, n);
  if (on_test) {
    report.ablations["model_dev"] =
        NerMetrics(ScoreTagger(*tagger, dev.sentences), types, dev.sentences.size());
  }

  const std::pair<double, double> latency = TagLatencyMicros(*tagger, scored.sentences);
  const search::TrainingSummary& sum = tagger->training_summary();
  const search::TrainingSummary& sum_plain = no_gaz->training_summary();
  report.extra = {
      {"scored_on", on_test ? "test" : "dev"},
      {"train", SplitJson(in.train, train)},
      {"dev", SplitJson(in.dev, dev)},
      {"gazetteers", gaz_json},
      {"model",
       {{"kind", "averaged structured perceptron, BIEOS, constrained Viterbi"},
        {"epochs", options.epochs},
        {"best_epoch", sum.best_epoch},
        {"dev_f1_per_epoch", sum.dev_f1},
        {"num_features", sum.num_features},
        {"gazetteer_entries", tagger->gazetteer().size()},
        {"train_seconds", sum.seconds},
        {"tag_us_per_20_char_query", latency.first},
        {"tag_cpu_us_per_20_char_query", latency.second}}},
      {"no_gazetteer_model",
       {{"best_epoch", sum_plain.best_epoch},
        {"dev_f1_per_epoch", sum_plain.dev_f1},
        {"train_seconds", sum_plain.seconds}}},
  };
  if (on_test) report.extra["test"] = SplitJson(in.test, test);
  return report;
}

}  // namespace souk::eval
