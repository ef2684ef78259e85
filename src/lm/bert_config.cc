#include "lm/bert_config.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace souk::lm {

namespace {

using Json = nlohmann::json;

constexpr uintmax_t kMaxJsonFileBytes = 16u << 20;  // config files are a few hundred bytes

StatusOr<std::string> ReadSmallFile(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return NotFoundError(fmt::format("{}: no such file", file.string()));
  }
  if (!std::filesystem::is_regular_file(file, ec)) {
    return InvalidArgumentError(fmt::format("{}: not a regular file", file.string()));
  }
  const uintmax_t size = std::filesystem::file_size(file, ec);
  if (ec) return UnavailableError(fmt::format("{}: {}", file.string(), ec.message()));
  if (size > kMaxJsonFileBytes) {
    return InvalidArgumentError(
        fmt::format("{}: {} bytes is too large for a JSON config file", file.string(), size));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return UnavailableError(fmt::format("{}: cannot open", file.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return UnavailableError(fmt::format("{}: read failed", file.string()));
  return ss.str();
}

StatusOr<Json> ParseJsonObject(std::string_view text, std::string_view source) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgumentError(fmt::format("{}: not valid JSON", source));
  if (!j.is_object()) return InvalidArgumentError(fmt::format("{}: not a JSON object", source));
  return j;
}

// Reads an integer key into *out when present and not null.
Status GetInt(const Json& obj, const char* key, std::string_view source, int* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return OkStatus();
  bool fits = false;
  if (it->is_number_unsigned()) {
    fits = it->get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int>::max());
  } else if (it->is_number_integer()) {
    const int64_t v = it->get<int64_t>();
    fits = v >= std::numeric_limits<int>::min() && v <= std::numeric_limits<int>::max();
  } else {
    return InvalidArgumentError(
        fmt::format("{}: \"{}\" must be an integer, got {}", source, key, it->dump()));
  }
  if (!fits) {
    return InvalidArgumentError(
        fmt::format("{}: \"{}\" = {} is out of range", source, key, it->dump()));
  }
  *out = it->get<int>();
  return OkStatus();
}

Status GetString(const Json& obj, const char* key, std::string_view source, std::string* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return OkStatus();
  if (!it->is_string()) {
    return InvalidArgumentError(
        fmt::format("{}: \"{}\" must be a string, got {}", source, key, it->dump()));
  }
  *out = it->get<std::string>();
  return OkStatus();
}

Status GetBool(const Json& obj, const char* key, std::string_view source, bool* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return OkStatus();
  if (!it->is_boolean()) {
    return InvalidArgumentError(
        fmt::format("{}: \"{}\" must be true or false, got {}", source, key, it->dump()));
  }
  *out = it->get<bool>();
  return OkStatus();
}

// A module path of modules.json, relative to the model folder.
StatusOr<std::filesystem::path> ModulePath(const std::filesystem::path& dir, const Json& module,
                                           std::string_view source) {
  std::string rel;
  RETURN_IF_ERROR(GetString(module, "path", source, &rel));
  const std::filesystem::path p(rel);
  if (p.is_absolute()) {
    return InvalidArgumentError(
        fmt::format("{}: module path '{}' must be relative to the model folder", source, rel));
  }
  for (const auto& part : p) {
    if (part == "..") {
      return InvalidArgumentError(
          fmt::format("{}: module path '{}' must stay inside the model folder", source, rel));
    }
  }
  if (rel.empty() || rel == ".") return dir;
  return dir / p;
}

// Reads a sentence-transformers Pooling config.json into *pooling.
Status ReadPoolingConfig(const std::filesystem::path& file, int hidden_size,
                         PoolingConfig* pooling) {
  const std::string source = file.string();
  ASSIGN_OR_RETURN(std::string text, ReadSmallFile(file));
  ASSIGN_OR_RETURN(Json j, ParseJsonObject(text, source));
  struct Flag {
    const char* key;
    const char* what;
    bool supported;
    PoolingMode mode;
  };
  static constexpr Flag kFlags[] = {
      {"pooling_mode_mean_tokens", "mean", true, PoolingMode::kMean},
      {"pooling_mode_cls_token", "cls", true, PoolingMode::kCls},
      {"pooling_mode_max_tokens", "max", true, PoolingMode::kMax},
      {"pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len_tokens", false, PoolingMode::kMean},
      {"pooling_mode_weightedmean_tokens", "weightedmean", false, PoolingMode::kMean},
      {"pooling_mode_lasttoken", "lasttoken", false, PoolingMode::kMean},
  };
  std::vector<std::string> chosen;
  for (const Flag& f : kFlags) {
    bool on = false;
    RETURN_IF_ERROR(GetBool(j, f.key, source, &on));
    if (!on) continue;
    if (!f.supported) {
      return InvalidArgumentError(
          fmt::format("{}: \"{}\" is true: {} pooling is not supported (supported: mean, cls, max)",
                      source, f.key, f.what));
    }
    chosen.push_back(f.key);
    pooling->mode = f.mode;
  }
  if (chosen.size() != 1) {
    return InvalidArgumentError(
        fmt::format("{}: exactly one of pooling_mode_mean_tokens, pooling_mode_cls_token, "
                    "pooling_mode_max_tokens must be true, found {} ({})",
                    source, chosen.size(), fmt::join(chosen, ", ")));
  }
  int dim = 0;
  RETURN_IF_ERROR(GetInt(j, "word_embedding_dimension", source, &dim));
  if (dim != 0 && dim != hidden_size) {
    return InvalidArgumentError(
        fmt::format("{}: \"word_embedding_dimension\" {} differs from the model's hidden_size {}",
                    source, dim, hidden_size));
  }
  return OkStatus();
}

bool IsRegularFile(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec);
}

}  // namespace

StatusOr<HiddenAct> ParseHiddenAct(std::string_view name) {
  if (name == "gelu") return HiddenAct::kGelu;
  // transformers' NewGELU, PytorchGELUTanh and FastGELU are the same tanh formula.
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") {
    return HiddenAct::kGeluTanh;
  }
  if (name == "relu") return HiddenAct::kRelu;
  if (name == "silu" || name == "swish") return HiddenAct::kSilu;
  return InvalidArgumentError(
      fmt::format("unsupported hidden_act '{}' (supported: gelu, gelu_new, gelu_pytorch_tanh, "
                  "gelu_fast, relu, silu, swish)",
                  name));
}

StatusOr<BertConfig> BertConfig::FromJsonFile(const std::filesystem::path& file) {
  ASSIGN_OR_RETURN(std::string text, ReadSmallFile(file));
  return FromJson(text, file.string());
}

StatusOr<BertConfig> BertConfig::FromJson(std::string_view json, std::string_view source) {
  ASSIGN_OR_RETURN(Json j, ParseJsonObject(json, source));
  BertConfig c;
  RETURN_IF_ERROR(GetString(j, "model_type", source, &c.model_type));
  if (c.model_type != "bert") {
    return InvalidArgumentError(fmt::format(
        "{}: \"model_type\" is '{}': only 'bert' models (BertModel with absolute position "
        "embeddings) are supported",
        source, c.model_type));
  }
  std::string position = "absolute";
  RETURN_IF_ERROR(GetString(j, "position_embedding_type", source, &position));
  if (position != "absolute") {
    return InvalidArgumentError(fmt::format(
        "{}: \"position_embedding_type\" is '{}': only 'absolute' is supported", source, position));
  }
  bool is_decoder = false, cross = false;
  RETURN_IF_ERROR(GetBool(j, "is_decoder", source, &is_decoder));
  if (is_decoder) {
    return InvalidArgumentError(
        fmt::format("{}: \"is_decoder\" is true: only encoder models are supported", source));
  }
  RETURN_IF_ERROR(GetBool(j, "add_cross_attention", source, &cross));
  if (cross) {
    return InvalidArgumentError(
        fmt::format("{}: \"add_cross_attention\" is true: not supported", source));
  }
  RETURN_IF_ERROR(GetInt(j, "vocab_size", source, &c.vocab_size));
  RETURN_IF_ERROR(GetInt(j, "hidden_size", source, &c.hidden_size));
  RETURN_IF_ERROR(GetInt(j, "num_hidden_layers", source, &c.num_hidden_layers));
  RETURN_IF_ERROR(GetInt(j, "num_attention_heads", source, &c.num_attention_heads));
  RETURN_IF_ERROR(GetInt(j, "intermediate_size", source, &c.intermediate_size));
  RETURN_IF_ERROR(GetInt(j, "max_position_embeddings", source, &c.max_position_embeddings));
  RETURN_IF_ERROR(GetInt(j, "type_vocab_size", source, &c.type_vocab_size));
  RETURN_IF_ERROR(GetInt(j, "pad_token_id", source, &c.pad_token_id));
  RETURN_IF_ERROR(GetString(j, "hidden_act", source, &c.hidden_act));
  if (auto it = j.find("layer_norm_eps"); it != j.end() && !it->is_null()) {
    if (!it->is_number()) {
      return InvalidArgumentError(
          fmt::format("{}: \"layer_norm_eps\" must be a number, got {}", source, it->dump()));
    }
    c.layer_norm_eps = static_cast<float>(it->get<double>());
  }
  Status s = c.Validate();
  if (!s.ok()) return s.WithContext(source);
  return c;
}

Status BertConfig::Validate() const {
  struct Positive {
    const char* key;
    int value;
  };
  const Positive positives[] = {
      {"vocab_size", vocab_size},
      {"hidden_size", hidden_size},
      {"num_hidden_layers", num_hidden_layers},
      {"num_attention_heads", num_attention_heads},
      {"intermediate_size", intermediate_size},
      {"max_position_embeddings", max_position_embeddings},
      {"type_vocab_size", type_vocab_size},
  };
  for (const Positive& p : positives) {
    if (p.value <= 0) {
      return InvalidArgumentError(fmt::format("\"{}\" must be positive, got {}", p.key, p.value));
    }
  }
  if (hidden_size % num_attention_heads != 0) {
    return InvalidArgumentError(
        fmt::format("\"num_attention_heads\" ({}) must divide \"hidden_size\" ({})",
                    num_attention_heads, hidden_size));
  }
  if (pad_token_id < 0 || pad_token_id >= vocab_size) {
    return InvalidArgumentError(
        fmt::format("\"pad_token_id\" {} is outside [0, vocab_size {})", pad_token_id, vocab_size));
  }
  if (!std::isfinite(layer_norm_eps) || layer_norm_eps <= 0) {
    return InvalidArgumentError(
        fmt::format("\"layer_norm_eps\" must be positive and finite, got {}", layer_norm_eps));
  }
  if (auto act = ParseHiddenAct(hidden_act); !act.ok()) {
    return InvalidArgumentError(fmt::format("\"hidden_act\": {}", act.status().message()));
  }
  if (model_type != "bert") {
    return InvalidArgumentError(
        fmt::format("\"model_type\" is '{}': only 'bert' is supported", model_type));
  }
  return OkStatus();
}

std::string BertConfig::ToJson() const {
  Json j = Json::object();  // keys come out sorted, like transformers' to_json_string
  j["architectures"] = Json::array({"BertModel"});
  j["hidden_act"] = hidden_act;
  j["hidden_size"] = hidden_size;
  j["intermediate_size"] = intermediate_size;
  // The shortest decimal that reads back as the same float ("1e-12", not 9.99e-13).
  j["layer_norm_eps"] = std::stod(fmt::format("{}", layer_norm_eps));
  j["max_position_embeddings"] = max_position_embeddings;
  j["model_type"] = model_type;
  j["num_attention_heads"] = num_attention_heads;
  j["num_hidden_layers"] = num_hidden_layers;
  j["pad_token_id"] = pad_token_id;
  j["position_embedding_type"] = "absolute";
  j["type_vocab_size"] = type_vocab_size;
  j["vocab_size"] = vocab_size;
  // Strings come from FromJson (valid UTF-8) or the caller; replace rather than throw.
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string_view PoolingModeName(PoolingMode mode) {
  switch (mode) {
    case PoolingMode::kMean:
      return "mean";
    case PoolingMode::kCls:
      return "cls";
    case PoolingMode::kMax:
      return "max";
  }
  return "?";
}

std::string PoolingConfig::ToString() const {
  std::string s(PoolingModeName(mode));
  if (normalize) s += "+normalize";
  return s;
}

StatusOr<ModelFolder> InspectModelFolder(const std::filesystem::path& dir,
                                         bool allow_missing_weights) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return NotFoundError(fmt::format("{}: no such model folder", dir.string()));
  }
  ModelFolder folder;
  folder.dir = dir;
  folder.transformer_dir = dir;

  // sentence-transformers layout (optional).
  const std::filesystem::path modules_file = dir / "modules.json";
  std::filesystem::path pooling_dir;
  bool has_modules = false;
  if (std::filesystem::exists(modules_file, ec)) {
    has_modules = true;
    const std::string source = modules_file.string();
    ASSIGN_OR_RETURN(std::string text, ReadSmallFile(modules_file));
    Json modules = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (modules.is_discarded())
      return InvalidArgumentError(fmt::format("{}: not valid JSON", source));
    if (!modules.is_array()) {
      return InvalidArgumentError(fmt::format("{}: not a JSON list of modules", source));
    }
    for (const Json& m : modules) {
      if (!m.is_object()) {
        return InvalidArgumentError(
            fmt::format("{}: module {} is not an object", source, m.dump()));
      }
      std::string type;
      RETURN_IF_ERROR(GetString(m, "type", source, &type));
      ASSIGN_OR_RETURN(std::filesystem::path path, ModulePath(dir, m, source));
      if (type == "sentence_transformers.models.Transformer") {
        folder.transformer_dir = path;
      } else if (type == "sentence_transformers.models.Pooling") {
        pooling_dir = path;
      } else if (type == "sentence_transformers.models.Normalize") {
        folder.pooling.normalize = true;
      } else {
        return InvalidArgumentError(fmt::format(
            "{}: module type '{}' is not supported (Souk runs Transformer, Pooling and Normalize "
            "modules)",
            source, type));
      }
    }
    if (pooling_dir.empty()) {
      return InvalidArgumentError(fmt::format(
          "{}: no sentence_transformers.models.Pooling module: the sentence vector is undefined",
          source));
    }
  }

  ASSIGN_OR_RETURN(folder.config, BertConfig::FromJsonFile(folder.transformer_dir / "config.json"));
  if (has_modules) {
    RETURN_IF_ERROR(
        ReadPoolingConfig(pooling_dir / "config.json", folder.config.hidden_size, &folder.pooling));
  }

  const std::filesystem::path sbert = folder.transformer_dir / "sentence_bert_config.json";
  if (std::filesystem::exists(sbert, ec)) {
    ASSIGN_OR_RETURN(std::string text, ReadSmallFile(sbert));
    ASSIGN_OR_RETURN(Json j, ParseJsonObject(text, sbert.string()));
    int len = 0;
    RETURN_IF_ERROR(GetInt(j, "max_seq_length", sbert.string(), &len));
    if (j.contains("max_seq_length") && !j["max_seq_length"].is_null() &&
        (len <= 0 || len > folder.config.max_position_embeddings)) {
      return InvalidArgumentError(
          fmt::format("{}: \"max_seq_length\" {} must be in [1, max_position_embeddings {}]",
                      sbert.string(), len, folder.config.max_position_embeddings));
    }
    folder.max_seq_length = len;
  }

  const std::filesystem::path weights = folder.transformer_dir / "model.safetensors";
  if (IsRegularFile(weights)) {
    folder.weights = weights;
  } else if (!allow_missing_weights) {
    const std::string d = folder.transformer_dir.string();
    if (IsRegularFile(folder.transformer_dir / "model.safetensors.index.json")) {
      return FailedPreconditionError(fmt::format(
          "{}: sharded checkpoint (model.safetensors.index.json): Souk reads one "
          "model.safetensors file; re-save it unsharded with Python: "
          "AutoModel.from_pretrained('{}').save_pretrained('{}', max_shard_size='100GB')",
          weights.string(), d, d));
    }
    if (IsRegularFile(folder.transformer_dir / "pytorch_model.bin")) {
      return FailedPreconditionError(fmt::format(
          "{}: missing; the folder has only pytorch_model.bin, and Souk reads safetensors only "
          "(it never unpickles PyTorch files). Download model.safetensors from the model's hub "
          "page if it has one, or convert once with Python: python -c \"from transformers import "
          "AutoModel; AutoModel.from_pretrained('{}').save_pretrained('{}', "
          "safe_serialization=True)\"",
          weights.string(), d, d));
    }
    return NotFoundError(fmt::format("{}: no such file (the model weights)", weights.string()));
  }
  return folder;
}

}  // namespace souk::lm
