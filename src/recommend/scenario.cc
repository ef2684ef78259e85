#include "recommend/scenario.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "recommend/candidate_source.h"
#include "recommend/rerankers.h"

namespace souk::recommend {
namespace {

using nlohmann::json;

SourceSpec Src(std::string name, int k, bool optional = false, double weight = 1.0) {
  SourceSpec s;
  s.name = std::move(name);
  s.k = k;
  s.optional = optional;
  s.weight = weight;
  return s;
}

RerankerSpec Rr(std::string name, json options = json::object()) {
  return RerankerSpec{std::move(name), std::move(options)};
}

Status CheckKeys(const json& obj, std::initializer_list<std::string_view> known,
                 const std::string& path) {
  if (!obj.is_object()) return InvalidArgumentError(fmt::format("{} must be an object", path));
  for (const auto& [key, value] : obj.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return InvalidArgumentError(
          fmt::format("unknown key '{}' in {} (known: {})", key, path, list));
    }
  }
  return OkStatus();
}

template <typename T>
Status Get(const json& obj, const char* key, const std::string& path, T* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return OkStatus();
  const std::string where = path.empty() ? key : path + "." + key;
  if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return InvalidArgumentError(where + " must be true or false");
    *out = it->get<bool>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return InvalidArgumentError(where + " must be a string");
    *out = it->get<std::string>();
  } else if constexpr (std::is_integral_v<T>) {
    if (!it->is_number_integer() && !it->is_number_unsigned()) {
      return InvalidArgumentError(where + " must be an integer");
    }
    *out = it->get<T>();
  } else {
    if (!it->is_number()) return InvalidArgumentError(where + " must be a number");
    *out = it->get<T>();
  }
  return OkStatus();
}

StatusOr<std::vector<SourceSpec>> ParseSources(const json& arr, const std::string& path) {
  if (!arr.is_array()) return InvalidArgumentError(path + " must be an array");
  std::vector<SourceSpec> out;
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string p = fmt::format("{}[{}]", path, i);
    const json& e = arr[i];
    SourceSpec s;
    if (e.is_string()) {
      s.name = e.get<std::string>();
    } else {
      RETURN_IF_ERROR(CheckKeys(e, {"name", "k", "weight", "optional", "options"}, p));
      RETURN_IF_ERROR(Get(e, "name", p, &s.name));
      RETURN_IF_ERROR(Get(e, "k", p, &s.k));
      RETURN_IF_ERROR(Get(e, "weight", p, &s.weight));
      RETURN_IF_ERROR(Get(e, "optional", p, &s.optional));
      if (auto it = e.find("options"); it != e.end()) {
        if (!it->is_object()) return InvalidArgumentError(p + ".options must be an object");
        s.options = *it;
      }
    }
    if (s.name.empty()) return InvalidArgumentError(p + ".name is missing");
    if (s.k < 1) return InvalidArgumentError(fmt::format("{}.k must be >= 1, got {}", p, s.k));
    if (!(s.weight >= 0)) return InvalidArgumentError(fmt::format("{}.weight must be >= 0", p));
    out.push_back(std::move(s));
  }
  return out;
}

StatusOr<std::vector<RerankerSpec>> ParseRerankers(const json& arr, const std::string& path) {
  if (!arr.is_array()) return InvalidArgumentError(path + " must be an array");
  std::vector<RerankerSpec> out;
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string p = fmt::format("{}[{}]", path, i);
    const json& e = arr[i];
    RerankerSpec r;
    if (e.is_string()) {
      r.name = e.get<std::string>();
    } else {
      RETURN_IF_ERROR(CheckKeys(e, {"name", "options"}, p));
      RETURN_IF_ERROR(Get(e, "name", p, &r.name));
      if (auto it = e.find("options"); it != e.end()) {
        if (!it->is_object()) return InvalidArgumentError(p + ".options must be an object");
        r.options = *it;
      }
    }
    if (r.name.empty()) return InvalidArgumentError(p + ".name is missing");
    out.push_back(std::move(r));
  }
  return out;
}

json SourcesToJson(const std::vector<SourceSpec>& v) {
  json arr = json::array();
  for (const SourceSpec& s : v) {
    arr.push_back({{"name", s.name}, {"k", s.k}, {"weight", s.weight}, {"optional", s.optional},
                   {"options", s.options}});
  }
  return arr;
}

// TOML -> JSON (tables -> objects, arrays -> arrays, scalars as they are).
json TomlToJson(const toml::node& node) {
  if (const toml::table* t = node.as_table()) {
    json obj = json::object();
    for (const auto& [k, v] : *t) obj[std::string(k.str())] = TomlToJson(v);
    return obj;
  }
  if (const toml::array* a = node.as_array()) {
    json arr = json::array();
    for (const toml::node& v : *a) arr.push_back(TomlToJson(v));
    return arr;
  }
  if (auto v = node.value<bool>(); v && node.is_boolean()) return *v;
  if (node.is_integer()) return node.value<int64_t>().value_or(0);
  if (node.is_floating_point()) return node.value<double>().value_or(0);
  if (node.is_string()) return node.value<std::string>().value_or("");
  return nullptr;
}

}  // namespace

const std::vector<std::string>& ScenarioNames() {
  static const std::vector<std::string> kNames = {"home", "similar", "fbt",
                                                  "next", "buy-again", "trending"};
  return kNames;
}

bool IsKnownScenario(std::string_view name) {
  const auto& names = ScenarioNames();
  return std::find(names.begin(), names.end(), name) != names.end();
}

PipelineConfig DefaultPipelineConfig() {
  PipelineConfig c;
  const json purchases_filter = {{"remove_purchased", true}, {"remove_viewed", false},
                                 {"remove_context", true}};
  {
    ScenarioConfig s{.name = "home"};
    s.sources = {Src("cooccurrence", 100), Src("ease", 100),     Src("sasrec", 100, true),
                 Src("content", 50, true), Src("buy_again", 20), Src("popular", 50, false, 0.5)};
    s.cold_sources = {Src("trending", 100), Src("popular", 100), Src("cooccurrence", 50),
                      Src("content", 50, true)};
    s.use_ranker = true;
    s.rerankers = {Rr("seen_filter", purchases_filter), Rr("stock_filter"),
                   Rr("mmr", {{"lambda", 0.8}})};
    c.scenarios[s.name] = s;
  }
  {
    ScenarioConfig s{.name = "similar"};
    s.sources = {Src("content", 100, true), Src("cooccurrence", 100), Src("ease", 50)};
    s.requires_items = true;
    s.rerankers = {Rr("seen_filter", {{"remove_purchased", false}, {"remove_context", true}}),
                   Rr("stock_filter"), Rr("mmr", {{"lambda", 0.9}})};
    c.scenarios[s.name] = s;
  }
  {
    ScenarioConfig s{.name = "fbt"};
    s.sources = {Src("fbt", 50), Src("cooccurrence", 50, false, 0.5)};
    s.requires_items = true;
    s.rerankers = {Rr("seen_filter", purchases_filter), Rr("stock_filter")};
    c.scenarios[s.name] = s;
  }
  {
    ScenarioConfig s{.name = "next"};
    s.sources = {Src("sasrec", 100, true), Src("cooccurrence", 100), Src("content", 50, true),
                 Src("popular", 20, false, 0.3)};
    s.cold_sources = {Src("trending", 100), Src("popular", 100)};
    s.use_ranker = true;
    s.rerankers = {Rr("seen_filter", {{"remove_purchased", true}, {"remove_viewed", true},
                                      {"remove_context", true}}),
                   Rr("stock_filter")};
    c.scenarios[s.name] = s;
  }
  {
    ScenarioConfig s{.name = "buy-again"};
    s.sources = {Src("buy_again", 100)};
    s.rerankers = {Rr("seen_filter", {{"remove_purchased", false}, {"remove_context", false}}),
                   Rr("stock_filter")};
    c.scenarios[s.name] = s;
  }
  {
    ScenarioConfig s{.name = "trending"};
    s.sources = {Src("trending", 100), Src("popular", 50, false, 0.5)};
    s.rerankers = {Rr("stock_filter")};
    c.scenarios[s.name] = s;
  }
  return c;
}

StatusOr<PipelineConfig> ParsePipelineConfig(const json& doc, const PipelineConfig& base) {
  PipelineConfig c = base;
  if (doc.is_null()) return c;
  RETURN_IF_ERROR(CheckKeys(doc, {"name", "max_n", "history_limit", "rrf_k", "ranker", "scenarios"},
                            "the pipeline configuration"));
  RETURN_IF_ERROR(Get(doc, "name", "", &c.name));
  RETURN_IF_ERROR(Get(doc, "max_n", "", &c.max_n));
  RETURN_IF_ERROR(Get(doc, "history_limit", "", &c.history_limit));
  RETURN_IF_ERROR(Get(doc, "rrf_k", "", &c.rrf_k));
  if (c.name.empty()) return InvalidArgumentError("name must not be empty");
  if (c.max_n < 1) return InvalidArgumentError(fmt::format("max_n must be >= 1, got {}", c.max_n));
  if (c.history_limit < 1) {
    return InvalidArgumentError(fmt::format("history_limit must be >= 1, got {}", c.history_limit));
  }
  if (!(c.rrf_k > 0)) return InvalidArgumentError("rrf_k must be > 0");
  if (auto it = doc.find("ranker"); it != doc.end()) {
    const json& r = *it;
    RETURN_IF_ERROR(CheckKeys(r, {"enabled", "objective", "rounds", "early_stopping_rounds",
                                  "max_depth", "eta", "threads", "max_users", "label_fraction",
                                  "horizon_days", "valid_fraction", "min_positive_groups", "seed"},
                              "ranker"));
    RankerTrainOptions& o = c.ranker;
    RETURN_IF_ERROR(Get(r, "enabled", "ranker", &o.enabled));
    RETURN_IF_ERROR(Get(r, "objective", "ranker", &o.gbdt.objective));
    RETURN_IF_ERROR(Get(r, "rounds", "ranker", &o.gbdt.rounds));
    RETURN_IF_ERROR(Get(r, "early_stopping_rounds", "ranker", &o.gbdt.early_stopping_rounds));
    RETURN_IF_ERROR(Get(r, "max_depth", "ranker", &o.gbdt.max_depth));
    RETURN_IF_ERROR(Get(r, "eta", "ranker", &o.gbdt.eta));
    RETURN_IF_ERROR(Get(r, "threads", "ranker", &o.gbdt.threads));
    RETURN_IF_ERROR(Get(r, "max_users", "ranker", &o.max_users));
    RETURN_IF_ERROR(Get(r, "label_fraction", "ranker", &o.label_fraction));
    RETURN_IF_ERROR(Get(r, "horizon_days", "ranker", &o.horizon_days));
    RETURN_IF_ERROR(Get(r, "valid_fraction", "ranker", &o.valid_fraction));
    RETURN_IF_ERROR(Get(r, "min_positive_groups", "ranker", &o.min_positive_groups));
    RETURN_IF_ERROR(Get(r, "seed", "ranker", &o.seed));
    if (o.gbdt.objective != "rank:pairwise" && o.gbdt.objective != "rank:ndcg") {
      return InvalidArgumentError(fmt::format(
          "ranker.objective must be rank:pairwise or rank:ndcg, got '{}'", o.gbdt.objective));
    }
    if (!(o.label_fraction > 0 && o.label_fraction < 1)) {
      return InvalidArgumentError("ranker.label_fraction must be in (0, 1)");
    }
    if (!(o.valid_fraction >= 0 && o.valid_fraction < 1)) {
      return InvalidArgumentError("ranker.valid_fraction must be in [0, 1)");
    }
    if (o.max_users < 1) return InvalidArgumentError("ranker.max_users must be >= 1");
    if (o.gbdt.rounds < 1) return InvalidArgumentError("ranker.rounds must be >= 1");
  }
  if (auto it = doc.find("scenarios"); it != doc.end()) {
    if (!it->is_object()) return InvalidArgumentError("scenarios must be an object");
    for (const auto& [name, sj] : it->items()) {
      const std::string p = "scenarios." + name;
      if (!IsKnownScenario(name)) {
        std::string known;
        for (const std::string& n : ScenarioNames()) known += (known.empty() ? "" : ", ") + n;
        return InvalidArgumentError(
            fmt::format("unknown scenario '{}' in scenarios (known: {})", name, known));
      }
      RETURN_IF_ERROR(CheckKeys(
          sj, {"sources", "cold_sources", "ranker", "requires_items", "rerankers"}, p));
      ScenarioConfig& s = c.scenarios[name];
      s.name = name;
      if (auto f = sj.find("sources"); f != sj.end()) {
        ASSIGN_OR_RETURN(s.sources, ParseSources(*f, p + ".sources"));
      }
      if (auto f = sj.find("cold_sources"); f != sj.end()) {
        ASSIGN_OR_RETURN(s.cold_sources, ParseSources(*f, p + ".cold_sources"));
      }
      if (auto f = sj.find("rerankers"); f != sj.end()) {
        ASSIGN_OR_RETURN(s.rerankers, ParseRerankers(*f, p + ".rerankers"));
      }
      RETURN_IF_ERROR(Get(sj, "ranker", p, &s.use_ranker));
      RETURN_IF_ERROR(Get(sj, "requires_items", p, &s.requires_items));
      if (s.sources.empty()) return InvalidArgumentError(p + ".sources must not be empty");
    }
  }
  return c;
}

StatusOr<PipelineConfig> LoadPipelineConfigFile(const std::string& path, const PipelineConfig& base) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return NotFoundError(fmt::format("pipeline configuration '{}' does not exist", path));
  }
  json doc;
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".toml") {
    try {
      toml::table t = toml::parse_file(path);
      doc = TomlToJson(t);
    } catch (const toml::parse_error& e) {
      std::ostringstream os;
      os << e.description() << " (line " << e.source().begin.line << ")";
      return InvalidArgumentError(fmt::format("{}: {}", path, os.str()));
    }
  } else {
    std::ifstream in(path);
    doc = json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return InvalidArgumentError(path + ": not valid JSON");
  }
  auto c = ParsePipelineConfig(doc, base);
  if (!c.ok()) return c.status().WithContext(path);
  return c;
}

json PipelineConfigToJson(const PipelineConfig& c) {
  const RankerTrainOptions& o = c.ranker;
  json j = {{"name", c.name},
            {"max_n", c.max_n},
            {"history_limit", c.history_limit},
            {"rrf_k", c.rrf_k},
            {"ranker",
             {{"enabled", o.enabled},
              {"objective", o.gbdt.objective},
              {"rounds", o.gbdt.rounds},
              {"early_stopping_rounds", o.gbdt.early_stopping_rounds},
              {"max_depth", o.gbdt.max_depth},
              {"eta", o.gbdt.eta},
              {"threads", o.gbdt.threads},
              {"max_users", o.max_users},
              {"label_fraction", o.label_fraction},
              {"horizon_days", o.horizon_days},
              {"valid_fraction", o.valid_fraction},
              {"min_positive_groups", o.min_positive_groups},
              {"seed", o.seed}}}};
  json scenarios = json::object();
  for (const auto& [name, s] : c.scenarios) {
    json rr = json::array();
    for (const RerankerSpec& r : s.rerankers) rr.push_back({{"name", r.name}, {"options", r.options}});
    scenarios[name] = {{"sources", SourcesToJson(s.sources)},
                       {"cold_sources", SourcesToJson(s.cold_sources)},
                       {"ranker", s.use_ranker},
                       {"requires_items", s.requires_items},
                       {"rerankers", rr}};
  }
  j["scenarios"] = scenarios;
  return j;
}

Status ValidatePipelineConfig(const PipelineConfig& config, const SourceRegistry& sources,
                              const RerankerRegistry& rerankers) {
  const std::vector<std::string> names = sources.Names();
  auto known = [&](const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  for (const auto& [name, s] : config.scenarios) {
    for (const auto* list : {&s.sources, &s.cold_sources}) {
      for (const SourceSpec& spec : *list) {
        if (spec.optional || known(spec.name)) continue;
        std::string list_names;
        for (const std::string& n : names) list_names += (list_names.empty() ? "" : ", ") + n;
        return NotFoundError(fmt::format("scenario '{}': unknown candidate source '{}' (known: {})",
                                         name, spec.name, list_names));
      }
    }
    for (const RerankerSpec& r : s.rerankers) {
      auto made = rerankers.Create(r.name, r.options);
      if (!made.ok()) return made.status().WithContext("scenario '" + name + "'");
    }
  }
  return OkStatus();
}

}  // namespace souk::recommend
