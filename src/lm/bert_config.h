// BertConfig (a Hugging Face `config.json` of a BertModel), PoolingConfig (how
// token vectors become one sentence vector) and ModelFolder (a model folder as
// users download it from the Hugging Face hub, possibly in the
// sentence-transformers layout).
//
//   ASSIGN_OR_RETURN(ModelFolder folder, InspectModelFolder("models/all-MiniLM-L6-v2"));
//   // folder.config.hidden_size == 384, folder.pooling.mode == PoolingMode::kMean,
//   // folder.pooling.normalize, folder.max_seq_length == 256, folder.weights
//
// Only what Souk's BERT encoder implements is accepted: model_type "bert",
// absolute position embeddings, an encoder (no decoder, no cross-attention).
// Anything else is refused up front with InvalidArgument naming the file and
// the key, rather than producing wrong embeddings later.
//
// Thread-safety: plain values. Cost: a few small file reads.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

namespace souk::lm {

// The activation of the feed-forward layers (config key "hidden_act").
enum class HiddenAct {
  kGelu,      // "gelu": exact, 0.5 x (1 + erf(x / sqrt 2))
  kGeluTanh,  // "gelu_new", "gelu_pytorch_tanh", "gelu_fast": the tanh approximation
  kRelu,      // "relu"
  kSilu,      // "silu", "swish": x * sigmoid(x)
};

// Errors: InvalidArgument naming `name` and the supported values.
StatusOr<HiddenAct> ParseHiddenAct(std::string_view name);

// Hyper-parameters of a BertModel. Defaults are those of bert-base-uncased.
struct BertConfig {
  int vocab_size = 30522, hidden_size = 768, num_hidden_layers = 12, num_attention_heads = 12,
      intermediate_size = 3072, max_position_embeddings = 512, type_vocab_size = 2,
      pad_token_id = 0;
  float layer_norm_eps = 1e-12f;
  // Supported: gelu, gelu_new / gelu_pytorch_tanh / gelu_fast (tanh approx), relu, silu / swish.
  std::string hidden_act = "gelu";
  std::string model_type = "bert";

  // Reads and parses a config.json. Errors: NotFound when the file is missing;
  // those of FromJson (with the file as source).
  static StatusOr<BertConfig> FromJsonFile(const std::filesystem::path& file);
  // Parses config.json text; `source` names it in errors. Keys that are
  // absent keep their defaults; keys Souk does not use (dropout,
  // initializer_range, ...) are ignored. Errors: InvalidArgument naming the
  // source and the key for text that is not a JSON object, a value of the
  // wrong type or range, model_type other than "bert", position_embedding_type
  // other than "absolute", is_decoder or add_cross_attention true, an
  // unsupported hidden_act, and whatever Validate() rejects.
  static StatusOr<BertConfig> FromJson(std::string_view json, std::string_view source);

  // A Hugging Face compatible config.json (architectures ["BertModel"],
  // position_embedding_type "absolute"), pretty-printed; FromJson(ToJson())
  // gives back the same values.
  std::string ToJson() const;

  // Checks the values: every size positive, num_attention_heads divides
  // hidden_size, 0 <= pad_token_id < vocab_size, layer_norm_eps positive and
  // finite, supported hidden_act and model_type. Errors: InvalidArgument
  // naming the key.
  Status Validate() const;

  // hidden_size / num_attention_heads (valid after Validate()).
  int head_dim() const { return hidden_size / num_attention_heads; }
  // The parsed hidden_act. Errors: as ParseHiddenAct.
  StatusOr<HiddenAct> activation() const { return ParseHiddenAct(hidden_act); }
};

enum class PoolingMode { kMean, kCls, kMax };

// "mean", "cls", "max".
std::string_view PoolingModeName(PoolingMode mode);

// How token vectors become the sentence vector: mean over the non-padding
// tokens, the [CLS] token, or the element-wise max; then optionally L2
// normalization.
struct PoolingConfig {
  PoolingMode mode = PoolingMode::kMean;
  bool normalize = false;
  // "mean", "cls+normalize", ...
  std::string ToString() const;
};

// A Hugging Face model folder as users download it.
struct ModelFolder {
  std::filesystem::path dir;
  BertConfig config;
  PoolingConfig pooling;   // from modules.json + 1_Pooling/config.json (sentence-transformers);
                           // absent: mean pooling, normalize=false (what
                           // sentence-transformers does for a plain HF model)
  int max_seq_length = 0;  // sentence_bert_config.json max_seq_length, else 0 (unset)
  std::filesystem::path weights;  // model.safetensors (required unless allow_missing_weights)
  // Where config.json, the tokenizer files and the weights are: `dir`, or the
  // Transformer module's folder of an old sentence-transformers layout
  // (modules.json path "0_Transformer").
  std::filesystem::path transformer_dir;
};

// Reads a model folder: config.json (required), modules.json and the
// Pooling module's config.json (optional; sentence-transformers), the
// Normalize module (sets pooling.normalize), sentence_bert_config.json
// (optional max_seq_length) and finds model.safetensors.
// Errors, each naming the file:
//  - NotFound: `dir` or config.json missing; model.safetensors missing (unless
//    allow_missing_weights); a Pooling module folder without config.json.
//  - FailedPrecondition: only pytorch_model.bin (or a sharded checkpoint) is
//    present: Souk reads safetensors only; the message says how to convert.
//  - InvalidArgument: an invalid or unsupported config.json (see
//    BertConfig::FromJson); modules.json not a list of modules; a module type
//    other than Transformer, Pooling and Normalize (e.g. Dense); a pooling
//    config without exactly one of pooling_mode_mean_tokens / cls_token /
//    max_tokens true, or using mean_sqrt_len / weightedmean / lasttoken
//    pooling; a word_embedding_dimension other than hidden_size; a
//    max_seq_length that is not positive or exceeds max_position_embeddings.
StatusOr<ModelFolder> InspectModelFolder(const std::filesystem::path& dir,
                                         bool allow_missing_weights = false);

}  // namespace souk::lm
