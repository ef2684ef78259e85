#include "rank/gbdt_model.h"

#include <fmt/format.h>
#include <xgboost/c_api.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "common/file.h"

namespace souk::rank {
namespace {

constexpr int kFormatVersion = 1;
constexpr char kKind[] = "gbdt";

Status XgbError(std::string_view what) {
  return InternalError(fmt::format("xgboost: {}: {}", what, XGBGetLastError()));
}

#define XGB_CHECK(call, what)          \
  do {                                 \
    if ((call) != 0) return XgbError(what); \
  } while (0)

// Owns a DMatrix handle.
struct DMatrix {
  DMatrixHandle h = nullptr;
  ~DMatrix() {
    if (h != nullptr) XGDMatrixFree(h);
  }
};

Status MakeDMatrix(const TrainingSet& set, bool ranking, DMatrix* out) {
  XGB_CHECK(XGDMatrixCreateFromMat(set.x.data(), set.rows(), set.cols(),
                                   std::numeric_limits<float>::quiet_NaN(), &out->h),
            "creating the feature matrix");
  XGB_CHECK(XGDMatrixSetFloatInfo(out->h, "label", set.label.data(), set.rows()), "labels");
  if (ranking) {
    XGB_CHECK(XGDMatrixSetUIntInfo(out->h, "group", set.groups.data(), set.groups.size()),
              "query groups");
    if (!set.weight.empty()) {  // XGBoost's ranking objectives take one weight per group
      std::vector<float> gw;
      size_t row = 0;
      for (uint32_t g : set.groups) {
        gw.push_back(set.weight[row]);
        row += g;
      }
      XGB_CHECK(XGDMatrixSetFloatInfo(out->h, "weight", gw.data(), gw.size()), "group weights");
    }
  } else if (!set.weight.empty()) {
    XGB_CHECK(XGDMatrixSetFloatInfo(out->h, "weight", set.weight.data(), set.rows()), "weights");
  }
  return OkStatus();
}

// Parses "[12]\tvalid-ndcg@10:0.51234" -> 0.51234.
double ParseEvalScore(const char* s) {
  std::string str(s);
  const size_t colon = str.rfind(':');
  if (colon == std::string::npos) return std::nan("");
  return std::strtod(str.c_str() + colon + 1, nullptr);
}

bool HigherIsBetter(const std::string& metric) {
  return metric.rfind("ndcg", 0) == 0 || metric.rfind("map", 0) == 0 ||
         metric.rfind("auc", 0) == 0 || metric.rfind("aucpr", 0) == 0;
}

std::string DefaultMetric(const std::string& objective) {
  if (objective.rfind("rank:", 0) == 0) return "ndcg@10";
  if (objective == "binary:logistic") return "logloss";
  return "rmse";
}

std::string PredictConfig(int type) {
  return fmt::format(
      R"({{"type": {}, "training": false, "iteration_begin": 0, "iteration_end": 0, )"
      R"("strict_shape": false, "missing": NaN, "cache_id": 0}})",
      type);
}

}  // namespace

void TrainingSet::AddRow(const std::vector<float>& features, float y, float w) {
  x.insert(x.end(), features.begin(), features.end());
  label.push_back(y);
  if (!weight.empty() || w != 1.0f) {
    weight.resize(label.size() - 1, 1.0f);
    weight.push_back(w);
  }
}

Status TrainingSet::Validate() const {
  if (feature_names.empty()) return InvalidArgumentError("training set has no features");
  if (x.size() != rows() * cols()) {
    return InvalidArgumentError(fmt::format("training set: {} values for {} rows x {} features",
                                            x.size(), rows(), cols()));
  }
  if (!weight.empty() && weight.size() != rows()) {
    return InvalidArgumentError(
        fmt::format("training set: {} weights for {} rows", weight.size(), rows()));
  }
  if (!groups.empty()) {
    uint64_t sum = 0;
    for (uint32_t g : groups) sum += g;
    if (sum != rows()) {
      return InvalidArgumentError(
          fmt::format("training set: query groups cover {} rows, there are {}", sum, rows()));
    }
  }
  for (float y : label) {
    if (!std::isfinite(y)) return InvalidArgumentError("training set: a label is not finite");
  }
  return OkStatus();
}

GbdtModel::~GbdtModel() {
  if (booster_ != nullptr) XGBoosterFree(static_cast<BoosterHandle>(booster_));
}

StatusOr<std::unique_ptr<GbdtModel>> GbdtModel::Train(const TrainingSet& train,
                                                      const TrainingSet* valid,
                                                      const GbdtOptions& o,
                                                      const ProgressOptions* progress) {
  const bool ranking = o.objective == "rank:pairwise" || o.objective == "rank:ndcg";
  if (!ranking && o.objective != "reg:squarederror" && o.objective != "binary:logistic") {
    return InvalidArgumentError(fmt::format(
        "unsupported objective '{}' (rank:pairwise, rank:ndcg, reg:squarederror, "
        "binary:logistic)",
        o.objective));
  }
  if (o.rounds <= 0) return InvalidArgumentError("rounds must be positive");
  RETURN_IF_ERROR(train.Validate());
  if (train.rows() == 0) return InvalidArgumentError("training set is empty");
  if (ranking && train.groups.empty()) {
    return InvalidArgumentError("ranking objective needs query groups");
  }
  if (valid != nullptr) {
    RETURN_IF_ERROR(valid->Validate());
    if (valid->feature_names != train.feature_names) {
      return InvalidArgumentError("validation set has different features than the training set");
    }
    if (valid->rows() == 0) valid = nullptr;
  }

  DMatrix dtrain, dvalid;
  RETURN_IF_ERROR(MakeDMatrix(train, ranking, &dtrain));
  if (valid != nullptr) RETURN_IF_ERROR(MakeDMatrix(*valid, ranking, &dvalid));

  std::unique_ptr<GbdtModel> model(new GbdtModel());
  model->feature_names_ = train.feature_names;
  model->objective_ = o.objective;
  DMatrixHandle mats[2] = {dtrain.h, dvalid.h};
  BoosterHandle booster = nullptr;
  XGB_CHECK(XGBoosterCreate(mats, valid != nullptr ? 2 : 1, &booster), "creating the booster");
  model->booster_ = booster;
  const std::string metric = o.eval_metric.empty() ? DefaultMetric(o.objective) : o.eval_metric;
  const std::vector<std::pair<std::string, std::string>> params = {
      {"objective", o.objective},
      {"eval_metric", metric},
      {"eta", fmt::format("{}", o.eta)},
      {"max_depth", std::to_string(o.max_depth)},
      {"min_child_weight", fmt::format("{}", o.min_child_weight)},
      {"subsample", fmt::format("{}", o.subsample)},
      {"colsample_bytree", fmt::format("{}", o.colsample_bytree)},
      {"lambda", fmt::format("{}", o.lambda)},
      {"tree_method", "hist"},
      {"nthread", std::to_string(std::max(1, o.threads))},
      {"seed", std::to_string(o.seed)},
      {"verbosity", "0"},
  };
  for (const auto& [k, v] : params) {
    XGB_CHECK(XGBoosterSetParam(booster, k.c_str(), v.c_str()), "setting " + k);
  }

  std::unique_ptr<Progress> bar;
  if (progress != nullptr) bar = std::make_unique<Progress>("train gbdt", o.rounds, *progress);
  const bool higher = HigherIsBetter(metric);
  double best = higher ? -1e300 : 1e300;
  int best_iter = -1;
  int iter = 0;
  for (; iter < o.rounds; ++iter) {
    XGB_CHECK(XGBoosterUpdateOneIter(booster, iter, dtrain.h), "boosting");
    if (valid != nullptr) {
      const char* names[1] = {"valid"};
      DMatrixHandle vm[1] = {dvalid.h};
      const char* out = nullptr;
      XGB_CHECK(XGBoosterEvalOneIter(booster, iter, vm, names, 1, &out), "evaluating");
      const double score = ParseEvalScore(out);
      if (std::isfinite(score) && (higher ? score > best : score < best)) {
        best = score;
        best_iter = iter;
      }
      if (bar) bar->SetStatus(fmt::format("valid {} {:.4f} (best {:.4f} @{})", metric, score,
                                          best, best_iter + 1));
      if (o.early_stopping_rounds > 0 && best_iter >= 0 &&
          iter - best_iter >= o.early_stopping_rounds) {
        ++iter;
        if (bar) bar->Add(1);
        break;
      }
    }
    if (bar) bar->Add(1);
  }
  if (bar) bar->Finish();
  if (valid != nullptr && best_iter >= 0) {
    // Keep only the trees up to the best round.
    BoosterHandle sliced = nullptr;
    XGB_CHECK(XGBoosterSlice(booster, 0, best_iter + 1, 1, &sliced), "slicing to the best round");
    XGBoosterFree(booster);
    model->booster_ = sliced;
    model->best_iteration_ = best_iter;
    model->best_score_ = best;
  } else {
    model->best_iteration_ = iter - 1;
    model->best_score_ = std::nan("");
  }
  XGB_CHECK(XGBoosterSetParam(static_cast<BoosterHandle>(model->booster_), "nthread", "1"),
            "setting prediction threads");
  return model;
}

StatusOr<std::unique_ptr<GbdtModel>> GbdtModel::Load(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path manifest_path = fs::path(dir) / "manifest.json";
  const fs::path model_path = fs::path(dir) / "model.json";
  std::ifstream mf(manifest_path);
  if (!mf) return NotFoundError(fmt::format("no model manifest: {}", manifest_path.string()));
  nlohmann::json manifest = nlohmann::json::parse(mf, nullptr, false);
  if (manifest.is_discarded() || !manifest.is_object()) {
    return DataLossError(fmt::format("{}: not a JSON object", manifest_path.string()));
  }
  if (manifest.value("kind", "") != kKind) {
    return DataLossError(fmt::format("{}: kind is '{}', expected '{}'", manifest_path.string(),
                                     manifest.value("kind", ""), kKind));
  }
  if (manifest.value("format_version", 0) != kFormatVersion) {
    return DataLossError(fmt::format("{}: unsupported format_version {}", manifest_path.string(),
                                     manifest.value("format_version", 0)));
  }
  if (!fs::exists(model_path)) {
    return NotFoundError(fmt::format("no model file: {}", model_path.string()));
  }
  std::unique_ptr<GbdtModel> model(new GbdtModel());
  try {
    model->feature_names_ = manifest.at("feature_names").get<std::vector<std::string>>();
    model->objective_ = manifest.at("objective").get<std::string>();
    model->best_iteration_ = manifest.value("best_iteration", -1);
    model->best_score_ = manifest.value("best_score", std::nan(""));
  } catch (const nlohmann::json::exception& e) {
    return DataLossError(fmt::format("{}: {}", manifest_path.string(), e.what()));
  }
  BoosterHandle booster = nullptr;
  XGB_CHECK(XGBoosterCreate(nullptr, 0, &booster), "creating the booster");
  model->booster_ = booster;
  if (XGBoosterLoadModel(booster, model_path.c_str()) != 0) {
    return DataLossError(
        fmt::format("{}: cannot load: {}", model_path.string(), XGBGetLastError()));
  }
  bst_ulong nfeat = 0;
  XGB_CHECK(XGBoosterGetNumFeature(booster, &nfeat), "reading the feature count");
  if (nfeat != model->feature_names_.size()) {
    return DataLossError(fmt::format("{}: model has {} features, manifest lists {}",
                                     model_path.string(), nfeat, model->feature_names_.size()));
  }
  XGB_CHECK(XGBoosterSetParam(booster, "nthread", "1"), "setting prediction threads");
  return model;
}

Status GbdtModel::Save(const std::string& dir, const nlohmann::json& extra) const {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return UnavailableError(fmt::format("cannot create {}: {}", dir, ec.message()));
  bst_ulong len = 0;
  const char* buf = nullptr;
  XGB_CHECK(XGBoosterSaveModelToBuffer(static_cast<BoosterHandle>(booster_),
                                       R"({"format": "json"})", &len, &buf),
            "serializing the model");
  RETURN_IF_ERROR(WriteFileAtomically(fs::path(dir) / "model.json", std::string(buf, len)));
  nlohmann::json manifest = {
      {"kind", kKind},
      {"format_version", kFormatVersion},
      {"objective", objective_},
      {"feature_names", feature_names_},
      {"best_iteration", best_iteration_},
  };
  if (std::isfinite(best_score_)) manifest["best_score"] = best_score_;
  if (extra.is_object()) {
    for (const auto& [k, v] : extra.items()) manifest[k] = v;
  }
  return WriteFileAtomically(fs::path(dir) / "manifest.json", manifest.dump(2) + "\n");
}

Status GbdtModel::Predict(const float* x, size_t rows, float* out) const {
  static const std::string kConfig = PredictConfig(0);
  return PredictDense(x, rows, kConfig, out);
}

Status GbdtModel::PredictMargin(const float* x, size_t rows, float* out) const {
  static const std::string kConfig = PredictConfig(1);  // output_margin
  return PredictDense(x, rows, kConfig, out);
}

Status GbdtModel::PredictDense(const float* x, size_t rows, const std::string& config,
                               float* out) const {
  if (rows == 0) return OkStatus();
  const std::string iface = fmt::format(
      R"({{"data": [{}, true], "shape": [{}, {}], "typestr": "<f4", "version": 3}})",
      reinterpret_cast<uintptr_t>(x), rows, feature_names_.size());
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  XGB_CHECK(XGBoosterPredictFromDense(static_cast<BoosterHandle>(booster_), iface.c_str(),
                                      config.c_str(), nullptr, &shape, &dim, &result),
            "predicting");
  std::copy(result, result + rows, out);
  return OkStatus();
}

std::vector<float> GbdtModel::Predict(const std::vector<float>& x) const {
  const size_t cols = feature_names_.size();
  if (cols == 0 || x.size() % cols != 0) return {};
  std::vector<float> out(x.size() / cols);
  if (!Predict(x.data(), out.size(), out.data()).ok()) return {};
  return out;
}

StatusOr<std::vector<float>> GbdtModel::Contributions(const float* x, size_t rows) const {
  const size_t cols = feature_names_.size();
  if (rows == 0) return std::vector<float>{};
  DMatrix m;
  XGB_CHECK(XGDMatrixCreateFromMat(x, rows, cols, std::numeric_limits<float>::quiet_NaN(), &m.h),
            "creating the feature matrix");
  static const std::string kConfig = PredictConfig(2);
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  XGB_CHECK(XGBoosterPredictFromDMatrix(static_cast<BoosterHandle>(booster_), m.h,
                                        kConfig.c_str(), &shape, &dim, &result),
            "computing contributions");
  return std::vector<float>(result, result + rows * (cols + 1));
}

}  // namespace souk::rank
