// BertEncoder: a BERT-family sentence encoder (Hugging Face checkpoint folder or
// one trained by `souk train encoder`) behind the Encoder interface. This header
// does not include libtorch; link souk_lm_torch.
//
//   BertEncoderOptions options;  options.threads = 2;  options.int8 = true;
//   ASSIGN_OR_RETURN(auto enc, BertEncoder::Load("models/all-MiniLM-L6-v2", options));
//   std::vector<float> out(texts.size() * enc->Dim());
//   RETURN_IF_ERROR(enc->Encode(texts, TextKind::kQuery, out.data()));
//
// A model folder is what users download from the Hugging Face hub:
// config.json, tokenizer.json or vocab.txt (+ tokenizer_config.json),
// model.safetensors, and optionally sentence-transformers' modules.json and
// 1_Pooling/config.json (pooling mode, normalization) and
// sentence_bert_config.json (max_seq_length). Saved Souk encoders are the same
// folder plus manifest.json {"kind": "bert", ...} and, for LoRA fine-tunes,
// lora/adapter_model.safetensors.
//
// Encoding: texts are tokenized, sorted by length and run in batches padded
// only to the longest text of each batch (dynamic padding), with attention
// masks; rows return in input order. Texts longer than max_length are
// truncated (the [SEP] token is kept).
//
// Thread-safety: Encode / EncodeRaw are const and may run concurrently. The
// thread count is libtorch's intra-op pool, which is process-wide: Load sets it
// when options.threads > 0.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "lm/bert_config.h"
#include "lm/encoder.h"
#include "lm/encoder_registry.h"

namespace souk::lm {

class WordPieceTokenizer;

struct BertEncoderOptions {
  int threads = 0;       // libtorch intra-op threads; 0 leaves the process setting alone
  int batch_size = 32;   // texts per forward pass
  int max_length = 0;    // tokens incl. [CLS]/[SEP]; 0: sentence_bert_config's
                         // max_seq_length, else 128, never above max_position_embeddings
  bool int8 = false;     // int8 dynamic quantization of every linear layer
  std::string query_prefix;     // prepended to kQuery texts (e.g. "query: " for e5)
  std::string document_prefix;  // prepended to kDocument texts
  std::optional<PoolingMode> pooling;  // overrides the folder's pooling
};

class BertEncoder : public Encoder {
 public:
  ~BertEncoder() override;

  // Loads a model folder (see above). Errors: those of the tokenizer,
  // config, pooling and safetensors loaders, each naming the file; a
  // vocabulary larger than the config's vocab_size is InvalidArgument.
  static StatusOr<std::unique_ptr<BertEncoder>> Load(const std::filesystem::path& dir,
                                                     const BertEncoderOptions& options = {});

  std::string Name() const override { return "bert"; }
  // sha256 of the weight files (+ LoRA adapters), "-int8" when quantized, and a
  // hash of max_length and the query/document prefixes: everything that changes the vectors.
  std::string Version() const override;
  int Dim() const override;
  // L2-normalized rows; an empty or whitespace-only text gives a zero row.
  Status Encode(std::span<const std::string> texts, TextKind kind, float* out) const override;
  // Saves manifest.json + the model folder files (HF layout) into dir.
  Status Save(const std::string& dir) const override;

  // Rows pooled and normalized exactly as the checkpoint says (what
  // sentence-transformers would return); empty texts are encoded as
  // [CLS][SEP]. `souk embed` uses this.
  Status EncodeRaw(std::span<const std::string> texts, TextKind kind, float* out) const;

  // EncodeRaw on already tokenized texts (ids with [CLS]/[SEP], at most
  // max_length each; longer rows are InvalidArgument). Benchmarks use it to
  // time the model without the tokenizer.
  Status EncodeIds(const std::vector<std::vector<int32_t>>& ids, float* out) const;

  // Token-level last hidden states of one text ([n_tokens, Dim()] row-major)
  // and its token ids, for tests and explanations.
  Status EncodeTokens(const std::string& text, std::vector<int32_t>* ids, std::vector<float>* states) const;

  const BertConfig& config() const;
  const PoolingConfig& pooling() const;
  const WordPieceTokenizer& tokenizer() const;
  int max_length() const;
  const BertEncoderOptions& options() const;

  struct State;  // libtorch state (bert_encoder.cc)

 private:
  explicit BertEncoder(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Registers kind "bert" (BertEncoder::Load with the options in the manifest).
Status RegisterBertEncoder(EncoderRegistry& registry);

}  // namespace souk::lm
