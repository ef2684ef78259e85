#include "lm/bert_encoder.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <numeric>

#include "common/file.h"
#include "common/sha256.h"
#include "lm/bert_model.h"
#include "lm/safetensors.h"
#include "lm/wordpiece_tokenizer.h"

namespace souk::lm {
namespace fs = std::filesystem;

constexpr int kBertFormatVersion = 1;

struct BertEncoder::State {
  fs::path dir;
  ModelFolder folder;
  std::optional<WordPieceTokenizer> tokenizer;
  mutable BertModel model{nullptr};  // forward() is not const in libtorch; it does not mutate weights
  BertEncoderOptions options;
  PoolingConfig pooling;
  int max_length = 128;
  std::string version;
  bool has_lora = false;
};

namespace {

bool IsBlank(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

// Reads the options a saved Souk encoder recorded in manifest.json; options the
// caller set explicitly win.
Status ApplyManifest(const fs::path& dir, BertEncoderOptions* options) {
  const fs::path path = dir / "manifest.json";
  std::error_code ec;
  if (!fs::exists(path, ec)) return OkStatus();
  std::ifstream in(path);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return DataLossError(path.string() + ": not a JSON object");
  auto str = [&](const char* key, std::string* field) {
    if (field->empty() && j.contains(key) && j[key].is_string()) *field = j[key].get<std::string>();
  };
  str("query_prefix", &options->query_prefix);
  str("document_prefix", &options->document_prefix);
  if (j.contains("int8") && j["int8"].is_boolean() && j["int8"].get<bool>()) options->int8 = true;
  if (options->max_length == 0 && j.contains("max_length") && j["max_length"].is_number_integer()) {
    options->max_length = j["max_length"].get<int>();
  }
  return OkStatus();
}

}  // namespace

BertEncoder::BertEncoder(std::unique_ptr<State> state) : state_(std::move(state)) {}
BertEncoder::~BertEncoder() = default;

StatusOr<std::unique_ptr<BertEncoder>> BertEncoder::Load(const fs::path& dir, const BertEncoderOptions& options) {
  auto state = std::make_unique<State>();
  state->dir = dir;
  state->options = options;
  RETURN_IF_ERROR(ApplyManifest(dir, &state->options));
  if (state->options.batch_size <= 0) {
    return InvalidArgumentError("bert encoder: batch_size must be positive, got " +
                                std::to_string(state->options.batch_size));
  }
  ASSIGN_OR_RETURN(state->folder, InspectModelFolder(dir));
  const BertConfig& config = state->folder.config;
  ASSIGN_OR_RETURN(WordPieceTokenizer tokenizer, WordPieceTokenizer::FromDirectory(dir));
  if (tokenizer.vocab_size() > config.vocab_size) {
    return InvalidArgumentError(dir.string() + ": the tokenizer has " + std::to_string(tokenizer.vocab_size()) +
                                " tokens but config.json says vocab_size " + std::to_string(config.vocab_size));
  }
  state->tokenizer.emplace(std::move(tokenizer));
  state->pooling = state->folder.pooling;
  if (options.pooling) state->pooling.mode = *options.pooling;

  int max_length = state->options.max_length;
  if (max_length <= 0) max_length = state->folder.max_seq_length > 0 ? state->folder.max_seq_length : 128;
  max_length = std::min(max_length, config.max_position_embeddings);
  if (max_length < 2) return InvalidArgumentError(dir.string() + ": max_length must be at least 2");
  state->max_length = max_length;

  ASSIGN_OR_RETURN(auto weights, SafetensorsFile::Open(state->folder.weights));
  ASSIGN_OR_RETURN(std::string weights_hash, Sha256File(state->folder.weights));
  std::string version = weights_hash.substr(0, 16);
  try {
    if (options.threads > 0) at::set_num_threads(options.threads);
    state->model = BertModel(config);
    RETURN_IF_ERROR(state->model->LoadWeights(*weights));
    const fs::path lora = dir / "lora";
    std::error_code ec;
    if (fs::exists(lora / "adapter_model.safetensors", ec)) {
      RETURN_IF_ERROR(LoadLoraWeights(state->model, lora));
      ASSIGN_OR_RETURN(std::string lora_hash, Sha256File(lora / "adapter_model.safetensors"));
      version += "+lora" + lora_hash.substr(0, 8);
      state->model->MergeLora();
      state->has_lora = true;
    }
    state->model->PrepareForInference(state->options.int8);
  } catch (const std::exception& e) {
    return InternalError(dir.string() + ": libtorch failed while loading: " + e.what());
  }
  if (state->options.int8) version += "-int8";
  // The token limit and the text prefixes change the vectors as much as the
  // weights do, so they are part of the version (and of every cache key).
  version += "-t" + Sha256Hex(std::to_string(state->max_length) + "\x1f" + state->options.query_prefix + "\x1f" +
                              state->options.document_prefix)
                        .substr(0, 8);
  state->version = version;
  return std::unique_ptr<BertEncoder>(new BertEncoder(std::move(state)));
}

std::string BertEncoder::Version() const { return state_->version; }
int BertEncoder::Dim() const { return state_->folder.config.hidden_size; }
const BertConfig& BertEncoder::config() const { return state_->folder.config; }
const PoolingConfig& BertEncoder::pooling() const { return state_->pooling; }
const WordPieceTokenizer& BertEncoder::tokenizer() const { return *state_->tokenizer; }
int BertEncoder::max_length() const { return state_->max_length; }
const BertEncoderOptions& BertEncoder::options() const { return state_->options; }

namespace {

// Encodes token id lists in length-sorted, dynamically padded batches; calls
// sink(row_index, pooled_row) for each.
Status RunBatches(const BertEncoder::State& s, const std::vector<std::vector<int32_t>>& ids, PoolingMode mode,
                  bool normalize, float* out, int dim) {
  std::vector<size_t> order(ids.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids[a].size() < ids[b].size(); });
  const int64_t pad = s.tokenizer->pad_id() >= 0 ? s.tokenizer->pad_id() : 0;
  try {
    c10::InferenceMode guard;
    for (size_t start = 0; start < order.size(); start += s.options.batch_size) {
      const size_t end = std::min(order.size(), start + static_cast<size_t>(s.options.batch_size));
      const int64_t batch = static_cast<int64_t>(end - start);
      int64_t seq = 1;
      for (size_t i = start; i < end; ++i) seq = std::max<int64_t>(seq, ids[order[i]].size());
      auto input = torch::full({batch, seq}, pad, torch::kLong);
      auto mask = torch::zeros({batch, seq}, torch::kLong);
      auto input_a = input.accessor<int64_t, 2>();
      auto mask_a = mask.accessor<int64_t, 2>();
      for (int64_t b = 0; b < batch; ++b) {
        const auto& row = ids[order[start + b]];
        for (size_t t = 0; t < row.size(); ++t) {
          input_a[b][t] = row[t];
          mask_a[b][t] = 1;
        }
      }
      auto hidden = s.model->forward(input, mask);
      auto pooled = PoolHidden(hidden, mask, mode, normalize).contiguous();
      const float* p = pooled.data_ptr<float>();
      for (int64_t b = 0; b < batch; ++b) {
        std::memcpy(out + order[start + b] * dim, p + b * dim, sizeof(float) * dim);
      }
    }
  } catch (const std::exception& e) {
    return InternalError(std::string("bert encoder: libtorch failed: ") + e.what());
  }
  return OkStatus();
}

}  // namespace

Status BertEncoder::Encode(std::span<const std::string> texts, TextKind kind, float* out) const {
  if (texts.empty()) return OkStatus();
  if (out == nullptr) return InvalidArgumentError("bert encoder: null output buffer");
  const std::string& prefix = kind == TextKind::kQuery ? state_->options.query_prefix : state_->options.document_prefix;
  std::vector<std::vector<int32_t>> ids;
  std::vector<size_t> rows;
  ids.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    if (IsBlank(texts[i])) {
      std::fill(out + i * Dim(), out + (i + 1) * Dim(), 0.0f);
      continue;
    }
    ids.push_back(state_->tokenizer->Encode(prefix + texts[i], true, state_->max_length));
    rows.push_back(i);
  }
  if (ids.empty()) return OkStatus();
  std::vector<float> pooled(ids.size() * Dim());
  RETURN_IF_ERROR(RunBatches(*state_, ids, state_->pooling.mode, /*normalize=*/true, pooled.data(), Dim()));
  for (size_t r = 0; r < rows.size(); ++r) {
    std::memcpy(out + rows[r] * Dim(), pooled.data() + r * Dim(), sizeof(float) * Dim());
  }
  return OkStatus();
}

Status BertEncoder::EncodeRaw(std::span<const std::string> texts, TextKind kind, float* out) const {
  if (texts.empty()) return OkStatus();
  if (out == nullptr) return InvalidArgumentError("bert encoder: null output buffer");
  const std::string& prefix = kind == TextKind::kQuery ? state_->options.query_prefix : state_->options.document_prefix;
  std::vector<std::vector<int32_t>> ids;
  ids.reserve(texts.size());
  for (const auto& t : texts) ids.push_back(state_->tokenizer->Encode(prefix + t, true, state_->max_length));
  return EncodeIds(ids, out);
}

Status BertEncoder::EncodeIds(const std::vector<std::vector<int32_t>>& ids, float* out) const {
  if (ids.empty()) return OkStatus();
  if (out == nullptr) return InvalidArgumentError("bert encoder: null output buffer");
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].empty() || static_cast<int>(ids[i].size()) > state_->max_length) {
      return InvalidArgumentError("bert encoder: row " + std::to_string(i) + " has " +
                                  std::to_string(ids[i].size()) + " ids (1.." + std::to_string(state_->max_length) +
                                  " allowed)");
    }
  }
  return RunBatches(*state_, ids, state_->pooling.mode, state_->pooling.normalize, out, Dim());
}

Status BertEncoder::EncodeTokens(const std::string& text, std::vector<int32_t>* ids, std::vector<float>* states) const {
  *ids = state_->tokenizer->Encode(text, true, state_->max_length);
  try {
    c10::InferenceMode guard;
    auto input = torch::empty({1, static_cast<int64_t>(ids->size())}, torch::kLong);
    for (size_t t = 0; t < ids->size(); ++t) input[0][t] = (*ids)[t];
    auto mask = torch::ones_like(input);
    auto hidden = state_->model->forward(input, mask).contiguous();
    states->assign(hidden.data_ptr<float>(), hidden.data_ptr<float>() + hidden.numel());
  } catch (const std::exception& e) {
    return InternalError(std::string("bert encoder: libtorch failed: ") + e.what());
  }
  return OkStatus();
}

Status BertEncoder::Save(const std::string& dir_string) const {
  const fs::path dir(dir_string);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return UnavailableError("cannot create " + dir.string() + ": " + ec.message());
  const bool same = fs::equivalent(dir, state_->dir, ec);
  if (!same) {
    for (const char* name : {"config.json", "tokenizer.json", "vocab.txt", "tokenizer_config.json",
                             "special_tokens_map.json", "modules.json", "sentence_bert_config.json",
                             "config_sentence_transformers.json", "1_Pooling/config.json",
                             "lora/adapter_model.safetensors"}) {
      const fs::path from = state_->dir / name;
      if (!fs::exists(from, ec)) continue;
      fs::create_directories((dir / name).parent_path(), ec);
      fs::copy_file(from, dir / name, fs::copy_options::overwrite_existing, ec);
      if (ec) return UnavailableError("cannot copy " + from.string() + " to " + dir.string() + ": " + ec.message());
    }
    fs::copy_file(state_->folder.weights, dir / "model.safetensors", fs::copy_options::overwrite_existing, ec);
    if (ec) return UnavailableError("cannot copy " + state_->folder.weights.string() + ": " + ec.message());
  }
  nlohmann::json manifest = {
      {"kind", Name()},
      {"format_version", kBertFormatVersion},
      {"version", Version()},
      {"dim", Dim()},
      {"max_length", state_->max_length},
      {"query_prefix", state_->options.query_prefix},
      {"document_prefix", state_->options.document_prefix},
      {"pooling", state_->pooling.ToString()},
      {"int8", state_->options.int8},
  };
  return WriteFileAtomically(dir / "manifest.json", manifest.dump(2) + "\n");
}

Status RegisterBertEncoder(EncoderRegistry& registry) {
  return registry.Register("bert", [](const std::string& dir, const EncoderManifest& manifest)
                                       -> StatusOr<std::unique_ptr<Encoder>> {
    if (manifest.format_version != kBertFormatVersion) {
      return FailedPreconditionError(dir + "/manifest.json: bert format_version " +
                                     std::to_string(manifest.format_version) + " is not supported (expected " +
                                     std::to_string(kBertFormatVersion) + ")");
    }
    ASSIGN_OR_RETURN(auto encoder, BertEncoder::Load(dir));
    return std::unique_ptr<Encoder>(std::move(encoder));
  });
}

}  // namespace souk::lm
