// BertModel: the BERT encoder stack (Hugging Face `BertModel` without the
// pooler) as a libtorch module, with parameter names identical to Hugging Face's
// so that safetensors checkpoints load and save by name:
//   embeddings.{word,position,token_type}_embeddings.weight, embeddings.LayerNorm.*
//   encoder.layer.N.attention.self.{query,key,value}.*
//   encoder.layer.N.attention.output.{dense,LayerNorm}.*
//   encoder.layer.N.intermediate.dense.*, encoder.layer.N.output.{dense,LayerNorm}.*
//
// Every linear layer is a `BertLinear`, which also carries the optional LoRA
// adapter (lora_A, lora_B; base weights frozen) and, after
// PrepareForInference(int8), the int8 dynamically-quantized packed weights.
//
// This header includes libtorch; only lm/ sources and tests include it. The rest
// of the engine uses BertEncoder (bert_encoder.h), which hides libtorch.
//
// Thread-safety: forward() under torch::NoGradGuard / InferenceMode may run
// concurrently on one module once weights are loaded and prepared; loading,
// training and PrepareForInference must not race with anything.
#pragma once

#include <ATen/native/quantized/PackedParams.h>
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "lm/bert_config.h"
#include "lm/bert_model_options.h"

namespace souk::lm {

class SafetensorsFile;

// One linear layer with HF parameter names "weight" [out, in] and "bias" [out].
class BertLinearImpl : public torch::nn::Module {
 public:
  BertLinearImpl(int64_t in, int64_t out);
  torch::Tensor forward(const torch::Tensor& x);

  // Adds lora_A / lora_B (trainable) and freezes weight and bias.
  void EnableLora(int rank, float alpha, torch::Generator* gen);
  bool has_lora() const { return lora_A.defined(); }
  // Folds B A * scale into weight and removes the adapter.
  void MergeLora();

  // int8 dynamic quantization of the weight (activations quantized per batch
  // at run time); forward() then uses the packed weight. Inference only.
  void PackInt8();
  void UnpackInt8();
  bool is_int8() const { return packed_.defined(); }
  // Inputs with fewer rows (tokens) than this use the float weights even when
  // packed: int8's per-call activation quantization costs more than it saves
  // on tiny inputs (measured: batch-1 queries were slower in int8).
  void set_int8_min_rows(int64_t rows) { int8_min_rows_ = rows; }
  // weight (+ the LoRA delta when an adapter is active).
  torch::Tensor EffectiveWeight() const;

  torch::Tensor weight, bias, lora_A, lora_B;

 private:
  float lora_scale_ = 0.0f;
  int64_t int8_min_rows_ = 0;
  c10::intrusive_ptr<LinearPackedParamsBase> packed_;
};
TORCH_MODULE(BertLinear);

struct BertForwardOptions {
  float dropout = 0.0f;  // hidden and attention dropout when training
};

class BertModelImpl : public torch::nn::Module {
 public:
  explicit BertModelImpl(const BertConfig& config);

  // input_ids, attention_mask: [batch, seq] int64 (mask 1 = token, 0 = padding);
  // token_type_ids may be undefined (all zeros). Returns the last hidden
  // states [batch, seq, hidden] (float32).
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                        const torch::Tensor& token_type_ids = {});

  const BertConfig& config() const { return config_; }

  // Copies every parameter from `file` by Hugging Face name. Accepts the
  // "bert." prefix of task checkpoints (BertForMaskedLM ...) and the legacy
  // LayerNorm "gamma"/"beta" names; F32/F16/BF16 tensors. Tensors the model
  // does not have (pooler, MLM head) are ignored. Errors: InvalidArgument
  // naming the tensor when one is missing or has the wrong shape.
  Status LoadWeights(const SafetensorsFile& file);

  // The base model's parameters by HF name (no LoRA tensors).
  std::vector<std::pair<std::string, torch::Tensor>> BaseParameters() const;

  // Adds LoRA adapters to the targeted linears and freezes every other
  // parameter. Returns how many linears got one.
  int EnableLora(const LoraOptions& options, uint64_t seed);
  std::vector<std::pair<std::string, torch::Tensor>> LoraParameters() const;
  void MergeLora();

  // Prepares for serving: eval mode, no gradients, query/key/value fused into
  // one [3H, H] linear per layer (with 1/sqrt(head_dim) folded into the query
  // part), and with int8=true every linear packed as int8 (dynamic
  // quantization; inputs under int8_min_rows tokens keep fp32). forward() in
  // eval mode then uses the fused weights: call it again after any weight
  // change (training, LoRA loading).
  void PrepareForInference(bool int8, int64_t int8_min_rows = 128);

  float dropout = 0.0f;  // used when is_training()

 private:
  struct Layer {
    BertLinear query{nullptr}, key{nullptr}, value{nullptr}, attn_out{nullptr};
    BertLinear qkv{nullptr};  // inference-only fused copy (not a registered module)
    torch::nn::LayerNorm attn_norm{nullptr};
    BertLinear inter{nullptr}, out{nullptr};
    torch::nn::LayerNorm out_norm{nullptr};
  };
  std::vector<BertLinear> AllLinears() const;

  BertConfig config_;
  torch::nn::Embedding word_{nullptr}, position_{nullptr}, token_type_{nullptr};
  torch::nn::LayerNorm emb_norm_{nullptr};
  std::vector<Layer> layers_;
  std::vector<std::string> linear_paths_;
};
TORCH_MODULE(BertModel);

// Pooling of last hidden states [batch, seq, hidden] with mask [batch, seq]
// into [batch, hidden]; mean (over real tokens), CLS (first token) or max.
torch::Tensor PoolHidden(const torch::Tensor& hidden, const torch::Tensor& attention_mask,
                         PoolingMode mode, bool normalize);

// Saves the base model (LoRA merged copies are the caller's business) as
// model.safetensors with HF names, plus config.json, into `dir`.
Status SaveBertWeights(const BertModel& model, const std::filesystem::path& dir, SaveDType dtype,
                       const std::map<std::string, std::string>& metadata = {});

// Saves only the LoRA tensors (adapter_model.safetensors) with their options.
Status SaveLoraWeights(const BertModel& model, const LoraOptions& options,
                       const std::filesystem::path& dir);
// Loads adapters saved by SaveLoraWeights into a model (enables LoRA first).
Status LoadLoraWeights(BertModel& model, const std::filesystem::path& dir);

}  // namespace souk::lm
