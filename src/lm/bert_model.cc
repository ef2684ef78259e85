#include "lm/bert_model.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include <cmath>
#include <cstring>

#include "common/file.h"
#include "lm/safetensors.h"

namespace souk::lm {
namespace {

namespace F = torch::nn::functional;

torch::Tensor Activation(const std::string& act, const torch::Tensor& x) {
  if (act == "gelu") return torch::gelu(x);
  if (act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu_fast") {
    return torch::gelu(x, "tanh");
  }
  if (act == "relu") return torch::relu(x);
  return torch::silu(x);  // "silu" / "swish"; BertConfig::Validate rejects anything else
}

// Converts a checkpoint tensor to a float32 torch tensor of `shape`.
StatusOr<torch::Tensor> ToTorch(const TensorView& view) {
  ASSIGN_OR_RETURN(std::vector<float> values, ToFloat32(view));
  std::vector<int64_t> shape(view.shape.begin(), view.shape.end());
  return torch::from_blob(values.data(), shape, torch::kFloat32).clone();
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

// --- BertLinear --------------------------------------------------------------

BertLinearImpl::BertLinearImpl(int64_t in, int64_t out) {
  weight = register_parameter("weight", torch::empty({out, in}));
  bias = register_parameter("bias", torch::zeros({out}));
  torch::nn::init::normal_(weight, 0.0, 0.02);
}

torch::Tensor BertLinearImpl::EffectiveWeight() const {
  if (!lora_A.defined()) return weight;
  return weight + torch::matmul(lora_B, lora_A) * lora_scale_;
}

torch::Tensor BertLinearImpl::forward(const torch::Tensor& x) {
  if (packed_.defined() && x.numel() / x.size(-1) >= int8_min_rows_) {
    auto flat = x.reshape({-1, x.size(-1)}).contiguous();
    auto y = packed_->apply_dynamic(flat, /*reduce_range=*/false);
    auto shape = x.sizes().vec();
    shape.back() = y.size(-1);
    return y.view(shape);
  }
  auto y = F::linear(x, weight, bias);
  if (lora_A.defined()) {
    y = y + F::linear(F::linear(x, lora_A), lora_B) * lora_scale_;
  }
  return y;
}

void BertLinearImpl::EnableLora(int rank, float alpha, torch::Generator* gen) {
  torch::NoGradGuard no_grad;
  const int64_t in = weight.size(1), out = weight.size(0);
  // A ~ Kaiming-uniform as in the paper's reference, B = 0 so training starts
  // from the base model exactly.
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  auto a = torch::empty({rank, in});
  if (gen != nullptr) {
    a.uniform_(-bound, bound, *gen);
  } else {
    a.uniform_(-bound, bound);
  }
  lora_A = register_parameter("lora_A", a);
  lora_B = register_parameter("lora_B", torch::zeros({out, rank}));
  lora_scale_ = alpha / static_cast<float>(rank);
  weight.set_requires_grad(false);
  bias.set_requires_grad(false);
}

void BertLinearImpl::MergeLora() {
  if (!lora_A.defined()) return;
  torch::NoGradGuard no_grad;
  weight.add_(torch::matmul(lora_B, lora_A) * lora_scale_);
  // Modules cannot unregister parameters; zero the adapter instead so that the
  // merged weight alone carries it.
  lora_B.zero_();
}

void BertLinearImpl::PackInt8() {
  torch::NoGradGuard no_grad;
  auto w = EffectiveWeight().detach().contiguous();
  // Per-output-channel symmetric int8 scales.
  auto scales = (w.abs().amax(1) / 127.0).clamp_min(1e-8).to(torch::kDouble);
  auto zero_points = torch::zeros({w.size(0)}, torch::kLong);
  auto qw = at::quantize_per_channel(w, scales, zero_points, 0, at::kQInt8);
  static auto prepack =
      c10::Dispatcher::singleton()
          .findSchemaOrThrow("quantized::linear_prepack", "")
          .typed<c10::intrusive_ptr<LinearPackedParamsBase>(at::Tensor, c10::optional<at::Tensor>)>();
  packed_ = prepack.call(qw, bias.detach().contiguous());
}

void BertLinearImpl::UnpackInt8() { packed_.reset(); }

// --- BertModel ---------------------------------------------------------------

BertModelImpl::BertModelImpl(const BertConfig& config) : config_(config) {
  const int64_t h = config.hidden_size;
  auto embeddings = register_module("embeddings", std::make_shared<torch::nn::Module>());
  word_ = embeddings->register_module(
      "word_embeddings", torch::nn::Embedding(torch::nn::EmbeddingOptions(config.vocab_size, h)));
  position_ = embeddings->register_module(
      "position_embeddings",
      torch::nn::Embedding(torch::nn::EmbeddingOptions(config.max_position_embeddings, h)));
  token_type_ = embeddings->register_module(
      "token_type_embeddings",
      torch::nn::Embedding(torch::nn::EmbeddingOptions(std::max(1, config.type_vocab_size), h)));
  auto ln_options = [&] {
    return torch::nn::LayerNormOptions({h}).eps(static_cast<double>(config.layer_norm_eps));
  };
  emb_norm_ = embeddings->register_module("LayerNorm", torch::nn::LayerNorm(ln_options()));
  {
    torch::NoGradGuard no_grad;
    for (auto* e : {&word_, &position_, &token_type_}) torch::nn::init::normal_((*e)->weight, 0.0, 0.02);
  }

  auto encoder = register_module("encoder", std::make_shared<torch::nn::Module>());
  auto layer_list = encoder->register_module("layer", std::make_shared<torch::nn::Module>());
  for (int i = 0; i < config.num_hidden_layers; ++i) {
    auto layer = layer_list->register_module(std::to_string(i), std::make_shared<torch::nn::Module>());
    auto attention = layer->register_module("attention", std::make_shared<torch::nn::Module>());
    auto self = attention->register_module("self", std::make_shared<torch::nn::Module>());
    auto attn_output = attention->register_module("output", std::make_shared<torch::nn::Module>());
    auto intermediate = layer->register_module("intermediate", std::make_shared<torch::nn::Module>());
    auto output = layer->register_module("output", std::make_shared<torch::nn::Module>());
    Layer l;
    l.query = self->register_module("query", BertLinear(h, h));
    l.key = self->register_module("key", BertLinear(h, h));
    l.value = self->register_module("value", BertLinear(h, h));
    l.attn_out = attn_output->register_module("dense", BertLinear(h, h));
    l.attn_norm = attn_output->register_module("LayerNorm", torch::nn::LayerNorm(ln_options()));
    l.inter = intermediate->register_module("dense", BertLinear(h, config.intermediate_size));
    l.out = output->register_module("dense", BertLinear(config.intermediate_size, h));
    l.out_norm = output->register_module("LayerNorm", torch::nn::LayerNorm(ln_options()));
    const std::string prefix = "encoder.layer." + std::to_string(i) + ".";
    for (const char* path : {"attention.self.query", "attention.self.key", "attention.self.value",
                             "attention.output.dense", "intermediate.dense", "output.dense"}) {
      linear_paths_.push_back(prefix + path);
    }
    layers_.push_back(std::move(l));
  }
}

std::vector<BertLinear> BertModelImpl::AllLinears() const {
  std::vector<BertLinear> all;
  for (const auto& l : layers_) {
    for (const auto& lin : {l.query, l.key, l.value, l.attn_out, l.inter, l.out}) all.push_back(lin);
  }
  return all;
}

torch::Tensor BertModelImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                     const torch::Tensor& token_type_ids) {
  const int64_t batch = input_ids.size(0), seq = input_ids.size(1);
  const int64_t heads = config_.num_attention_heads;
  const int64_t head_dim = config_.hidden_size / heads;
  const bool train = is_training() && dropout > 0.0f;

  auto positions = torch::arange(seq, torch::kLong).unsqueeze(0);
  auto x = word_->forward(input_ids) + position_->forward(positions);
  if (token_type_ids.defined()) {
    x = x + token_type_->forward(token_type_ids);
  } else {
    x = x + token_type_->weight[0];
  }
  x = emb_norm_->forward(x);
  if (train) x = F::dropout(x, F::DropoutFuncOptions().p(dropout).training(true));

  // Additive mask: 0 for tokens, the float minimum for padding (as HF does).
  auto mask_bias = (1.0 - attention_mask.to(torch::kFloat32)).view({batch, 1, 1, seq}) *
                   std::numeric_limits<float>::lowest();
  const double inv_sqrt = 1.0 / std::sqrt(static_cast<double>(head_dim));

  for (auto& l : layers_) {
    auto split = [&](const torch::Tensor& t) {
      return t.view({batch, seq, heads, head_dim}).transpose(1, 2);
    };
    torch::Tensor q, k, v;
    if (l.qkv && !is_training()) {
      // [B, T, 3H] -> 3 x [B, heads, T, head_dim]; the query part is pre-scaled.
      auto qkv = l.qkv->forward(x).view({batch, seq, 3, heads, head_dim}).permute({2, 0, 3, 1, 4});
      q = qkv[0];
      k = qkv[1];
      v = qkv[2];
    } else {
      q = split(l.query->forward(x) * inv_sqrt);
      k = split(l.key->forward(x));
      v = split(l.value->forward(x));
    }
    auto scores = torch::matmul(q, k.transpose(-1, -2)) + mask_bias;
    auto probs = torch::softmax(scores, -1);
    if (train) probs = F::dropout(probs, F::DropoutFuncOptions().p(dropout).training(true));
    auto context = torch::matmul(probs, v).transpose(1, 2).reshape({batch, seq, config_.hidden_size});
    auto attn = l.attn_out->forward(context);
    if (train) attn = F::dropout(attn, F::DropoutFuncOptions().p(dropout).training(true));
    x = l.attn_norm->forward(attn + x);
    auto inter = Activation(config_.hidden_act, l.inter->forward(x));
    auto out = l.out->forward(inter);
    if (train) out = F::dropout(out, F::DropoutFuncOptions().p(dropout).training(true));
    x = l.out_norm->forward(out + x);
  }
  return x;
}

std::vector<std::pair<std::string, torch::Tensor>> BertModelImpl::BaseParameters() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : named_parameters(/*recurse=*/true)) {
    const std::string& name = item.key();
    if (name.find("lora_") != std::string::npos) continue;
    out.emplace_back(name, item.value());
  }
  return out;
}

Status BertModelImpl::LoadWeights(const SafetensorsFile& file) {
  torch::NoGradGuard no_grad;
  for (auto& [name, param] : BaseParameters()) {
    const TensorView* view = nullptr;
    std::vector<std::string> candidates = {name, "bert." + name};
    auto legacy = [](std::string n) {
      const std::string w = "LayerNorm.weight", b = "LayerNorm.bias";
      if (n.size() >= w.size() && n.compare(n.size() - w.size(), w.size(), w) == 0) {
        return n.substr(0, n.size() - w.size()) + "LayerNorm.gamma";
      }
      if (n.size() >= b.size() && n.compare(n.size() - b.size(), b.size(), b) == 0) {
        return n.substr(0, n.size() - b.size()) + "LayerNorm.beta";
      }
      return std::string();
    };
    if (std::string l = legacy(name); !l.empty()) {
      candidates.push_back(l);
      candidates.push_back("bert." + l);
    }
    for (const auto& c : candidates) {
      if ((view = file.Find(c)) != nullptr) break;
    }
    if (view == nullptr) {
      return InvalidArgumentError(file.path().string() + ": tensor \"" + name +
                                  "\" is missing (is this a BERT checkpoint with Hugging Face names?)");
    }
    std::vector<int64_t> want = param.sizes().vec();
    std::vector<int64_t> have(view->shape.begin(), view->shape.end());
    if (want != have) {
      return InvalidArgumentError(file.path().string() + ": tensor \"" + view->name + "\" has shape " +
                                  ShapeString(have) + ", the config needs " + ShapeString(want));
    }
    ASSIGN_OR_RETURN(torch::Tensor value, ToTorch(*view));
    param.copy_(value);
  }
  return OkStatus();
}

int BertModelImpl::EnableLora(const LoraOptions& options, uint64_t seed) {
  for (auto& p : parameters(true)) p.set_requires_grad(false);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  torch::Generator generator(gen);
  int count = 0;
  auto linears = AllLinears();
  for (size_t i = 0; i < linears.size(); ++i) {
    bool match = false;
    for (const auto& t : options.targets) match = match || linear_paths_[i].find(t) != std::string::npos;
    if (!match) continue;
    linears[i]->EnableLora(options.rank, options.alpha, &generator);
    ++count;
  }
  return count;
}

std::vector<std::pair<std::string, torch::Tensor>> BertModelImpl::LoraParameters() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : named_parameters(true)) {
    if (item.key().find("lora_") != std::string::npos) out.emplace_back(item.key(), item.value());
  }
  return out;
}

void BertModelImpl::MergeLora() {
  for (auto& lin : AllLinears()) lin->MergeLora();
}

void BertModelImpl::PrepareForInference(bool int8, int64_t int8_min_rows) {
  eval();
  for (auto& p : parameters(true)) p.set_requires_grad(false);
  torch::NoGradGuard no_grad;
  const int64_t h = config_.hidden_size;
  const double inv_sqrt = 1.0 / std::sqrt(static_cast<double>(h / config_.num_attention_heads));
  for (auto& l : layers_) {
    l.qkv = BertLinear(h, 3 * h);
    l.qkv->weight.copy_(torch::cat({l.query->EffectiveWeight() * inv_sqrt, l.key->EffectiveWeight(),
                                    l.value->EffectiveWeight()}, 0));
    l.qkv->bias.copy_(torch::cat({l.query->bias * inv_sqrt, l.key->bias, l.value->bias}, 0));
    l.qkv->eval();
  }
  // The separate query/key/value weights stay in fp32 (training path only).
  std::vector<BertLinear> linears;
  for (auto& l : layers_) {
    for (auto* lin : {&l.query, &l.key, &l.value}) (*lin)->UnpackInt8();
    for (const auto& lin : {l.qkv, l.attn_out, l.inter, l.out}) linears.push_back(lin);
  }
  for (auto& lin : linears) {
    lin->set_int8_min_rows(int8_min_rows);
    if (int8) {
      lin->PackInt8();
    } else {
      lin->UnpackInt8();
    }
  }
}

// --- pooling and saving --------------------------------------------------------

torch::Tensor PoolHidden(const torch::Tensor& hidden, const torch::Tensor& attention_mask, PoolingMode mode,
                         bool normalize) {
  torch::Tensor pooled;
  auto mask = attention_mask.to(hidden.dtype()).unsqueeze(-1);  // [B, T, 1]
  switch (mode) {
    case PoolingMode::kCls:
      pooled = hidden.select(1, 0);
      break;
    case PoolingMode::kMax:
      pooled = hidden.masked_fill(mask == 0, -1e9).amax(1);
      break;
    case PoolingMode::kMean:
    default:
      pooled = (hidden * mask).sum(1) / mask.sum(1).clamp_min(1e-9);
      break;
  }
  if (normalize) pooled = F::normalize(pooled, F::NormalizeFuncOptions().p(2).dim(1).eps(1e-12));
  return pooled;
}

namespace {

std::vector<uint8_t> Encode(const torch::Tensor& t, SaveDType dtype) {
  auto f = t.detach().to(torch::kFloat32).contiguous();
  const float* p = f.data_ptr<float>();
  const int64_t n = f.numel();
  std::vector<uint8_t> bytes;
  if (dtype == SaveDType::kF32) {
    bytes.resize(n * 4);
    std::memcpy(bytes.data(), p, n * 4);
    return bytes;
  }
  bytes.resize(n * 2);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h = dtype == SaveDType::kF16 ? FloatToHalf(p[i]) : FloatToBf16(p[i]);
    std::memcpy(bytes.data() + 2 * i, &h, 2);
  }
  return bytes;
}

Status WriteTensors(const std::vector<std::pair<std::string, torch::Tensor>>& params,
                    const std::filesystem::path& file, SaveDType dtype,
                    const std::map<std::string, std::string>& metadata) {
  std::vector<std::vector<uint8_t>> storage;
  storage.reserve(params.size());
  std::vector<TensorToWrite> tensors;
  for (const auto& [name, t] : params) {
    storage.push_back(Encode(t, dtype));
    TensorToWrite w;
    w.name = name;
    w.dtype = dtype == SaveDType::kF32 ? DType::kF32 : dtype == SaveDType::kF16 ? DType::kF16 : DType::kBF16;
    w.shape = t.sizes().vec();
    w.bytes = std::span<const uint8_t>(storage.back());
    tensors.push_back(std::move(w));
  }
  return WriteSafetensors(file, tensors, metadata);
}

}  // namespace

Status SaveBertWeights(const BertModel& model, const std::filesystem::path& dir, SaveDType dtype,
                       const std::map<std::string, std::string>& metadata) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return UnavailableError("cannot create " + dir.string() + ": " + ec.message());
  std::map<std::string, std::string> meta = metadata;
  meta.emplace("format", "pt");
  RETURN_IF_ERROR(WriteTensors(model->BaseParameters(), dir / "model.safetensors", dtype, meta));
  return WriteFileAtomically(dir / "config.json", model->config().ToJson());
}

Status SaveLoraWeights(const BertModel& model, const LoraOptions& options, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return UnavailableError("cannot create " + dir.string() + ": " + ec.message());
  std::map<std::string, std::string> meta = {{"lora_rank", std::to_string(options.rank)},
                                             {"lora_alpha", std::to_string(options.alpha)}};
  std::string targets;
  for (const auto& t : options.targets) targets += (targets.empty() ? "" : ",") + t;
  meta["lora_targets"] = targets;
  return WriteTensors(model->LoraParameters(), dir / "adapter_model.safetensors", SaveDType::kF32, meta);
}

Status LoadLoraWeights(BertModel& model, const std::filesystem::path& dir) {
  ASSIGN_OR_RETURN(auto file, SafetensorsFile::Open(dir / "adapter_model.safetensors"));
  LoraOptions options;
  const auto& meta = file->metadata();
  auto get = [&](const char* key) -> StatusOr<std::string> {
    auto it = meta.find(key);
    if (it == meta.end()) {
      return DataLossError(file->path().string() + ": metadata \"" + key + "\" is missing");
    }
    return it->second;
  };
  ASSIGN_OR_RETURN(std::string rank, get("lora_rank"));
  ASSIGN_OR_RETURN(std::string alpha, get("lora_alpha"));
  ASSIGN_OR_RETURN(std::string targets, get("lora_targets"));
  try {
    options.rank = std::stoi(rank);
    options.alpha = std::stof(alpha);
  } catch (const std::exception&) {
    return DataLossError(file->path().string() + ": bad lora_rank/lora_alpha metadata");
  }
  options.targets.clear();
  for (size_t start = 0; start <= targets.size();) {
    size_t comma = targets.find(',', start);
    if (comma == std::string::npos) comma = targets.size();
    if (comma > start) options.targets.push_back(targets.substr(start, comma - start));
    start = comma + 1;
  }
  model->EnableLora(options, 0);
  torch::NoGradGuard no_grad;
  for (auto& [name, param] : model->LoraParameters()) {
    const TensorView* view = file->Find(name);
    if (view == nullptr) return DataLossError(file->path().string() + ": adapter tensor \"" + name + "\" is missing");
    if (param.sizes().vec() != std::vector<int64_t>(view->shape.begin(), view->shape.end())) {
      return DataLossError(file->path().string() + ": adapter tensor \"" + name + "\" has the wrong shape");
    }
    ASSIGN_OR_RETURN(torch::Tensor value, ToTorch(*view));
    param.copy_(value);
  }
  return OkStatus();
}

}  // namespace souk::lm
