// SasRecNet: the SASRec network (Kang & McAuley 2018, "Self-Attentive
// Sequential Recommendation") as a libtorch module, following the layout of
// the widely used PyTorch port:
//
//   x = dropout(E[ids] * sqrt(hidden) + P[pos]) * keep          (keep = id != 0)
//   per block:  q = LN_attn(x)
//               x = q + MHA(q, x, x; causal + key-padding mask)
//               x = LN_ffn(x);  x = x + FFN(x);  x = x * keep
//   h = LN_last(x)
//   score(i | prefix ending at t) = <h_t, E[i]>   (E shared with the input)
//
// Items are 1..num_items; id 0 is padding (left padding). Positions are
// right-aligned: the last item of a length-T input gets position max_len-1, as
// if the input were left-padded to max_len, so extra left padding never
// changes an output and inputs shorter than max_len cost only T positions.
//
// Optional item text: a fixed [num_items+1, text_dim] buffer projected to
// `hidden` by a bias-free linear layer and added to the id embedding (both at
// the input and in the output scores), so a text encoder can help cold items.
//
// This header includes libtorch; only recommend/sasrec_* sources and their
// tests include it. The rest of the engine uses SasRecModel (sasrec_trainer.h).
//
// Thread-safety: forward() in eval mode under torch::NoGradGuard /
// c10::InferenceMode may run concurrently; training must not race with it.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace souk::recommend::sasrec {

struct NetConfig {
  int64_t num_items = 0;   // items 1..num_items (0 = padding)
  int64_t max_len = 50;    // longest input (positions)
  int64_t hidden = 64;
  int64_t blocks = 2;
  int64_t heads = 1;       // hidden % heads == 0
  double dropout = 0.2;    // embedding, attention weights, feed-forward
  bool gelu = false;       // feed-forward activation (false = ReLU)
  int64_t text_dim = 0;    // > 0: item text buffer [num_items+1, text_dim]
};

// One causal self-attention block (pre-LayerNorm on the query).
class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(const NetConfig& config);
  // x [B,T,H]; allowed [B,1,T,T] bool (true = may attend); keep [B,T,1] float.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& allowed,
                        const torch::Tensor& keep);

 private:
  int64_t hidden_, heads_;
  double dropout_;
  bool gelu_;
  torch::nn::LayerNorm attn_ln_{nullptr}, ffn_ln_{nullptr};
  torch::nn::Linear q_{nullptr}, kv_{nullptr}, out_{nullptr}, ffn1_{nullptr}, ffn2_{nullptr};
};
TORCH_MODULE(Block);

class SasRecNetImpl : public torch::nn::Module {
 public:
  explicit SasRecNetImpl(const NetConfig& config);

  // The item representation table [num_items+1, hidden]: id embedding (+ the
  // projected text when text_dim > 0). Row 0 (padding) is never read for a
  // real position. Differentiable; compute once per batch.
  torch::Tensor ItemTable();

  // ids [B,T] int64 (0 = padding, left-padded; 1 <= T <= max_len), `table`
  // from ItemTable(). Returns the final hidden states [B,T,hidden] (zero rows
  // at padding positions).
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& table);

  // Copies `text` [num_items+1, text_dim] (row 0 = padding) into the buffer.
  // Requires text_dim > 0 and matching shape (checked with TORCH_CHECK).
  void SetText(const torch::Tensor& text);

  const NetConfig& config() const { return config_; }

 private:
  NetConfig config_;
  torch::nn::Embedding item_emb_{nullptr}, pos_emb_{nullptr};
  torch::nn::ModuleList blocks_;
  torch::nn::LayerNorm last_ln_{nullptr};
  torch::nn::Linear text_proj_{nullptr};
  torch::Tensor text_;  // buffer "text" when text_dim > 0
};
TORCH_MODULE(SasRecNet);

}  // namespace souk::recommend::sasrec
