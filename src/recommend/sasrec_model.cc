#include "recommend/sasrec_model.h"

#include <cmath>

namespace souk::recommend::sasrec {

namespace F = torch::nn::functional;

BlockImpl::BlockImpl(const NetConfig& config)
    : hidden_(config.hidden),
      heads_(config.heads),
      dropout_(config.dropout),
      gelu_(config.gelu) {
  const auto ln = torch::nn::LayerNormOptions({config.hidden}).eps(1e-8);
  attn_ln_ = register_module("attn_ln", torch::nn::LayerNorm(ln));
  ffn_ln_ = register_module("ffn_ln", torch::nn::LayerNorm(ln));
  q_ = register_module("q", torch::nn::Linear(config.hidden, config.hidden));
  kv_ = register_module("kv", torch::nn::Linear(config.hidden, 2 * config.hidden));
  out_ = register_module("out", torch::nn::Linear(config.hidden, config.hidden));
  ffn1_ = register_module("ffn1", torch::nn::Linear(config.hidden, config.hidden));
  ffn2_ = register_module("ffn2", torch::nn::Linear(config.hidden, config.hidden));
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, const torch::Tensor& allowed,
                                 const torch::Tensor& keep) {
  const int64_t b = x.size(0), t = x.size(1), d = hidden_ / heads_;
  const bool train = is_training();
  torch::Tensor q_in = attn_ln_(x);
  torch::Tensor q = q_(q_in);
  torch::Tensor kv = kv_(x);
  torch::Tensor k = kv.narrow(2, 0, hidden_);
  torch::Tensor v = kv.narrow(2, hidden_, hidden_);
  // [B,T,H] -> [B,heads,T,d]
  q = q.view({b, t, heads_, d}).transpose(1, 2);
  k = k.reshape({b, t, heads_, d}).transpose(1, 2);
  v = v.reshape({b, t, heads_, d}).transpose(1, 2);
  torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) * (1.0 / std::sqrt(double(d)));
  // A finite fill keeps rows with no allowed key (padding queries) NaN-free;
  // exp(-1e9 - max) is exactly 0 for every row that has an allowed key.
  scores = scores.masked_fill(allowed.logical_not(), -1e9);
  torch::Tensor attn = torch::softmax(scores, -1);
  if (train && dropout_ > 0) attn = torch::dropout(attn, dropout_, true);
  torch::Tensor ctx = torch::matmul(attn, v).transpose(1, 2).reshape({b, t, hidden_});
  torch::Tensor y = q_in + out_(ctx);
  y = ffn_ln_(y);
  torch::Tensor f = ffn1_(y);
  f = gelu_ ? torch::gelu(f) : torch::relu(f);
  if (train && dropout_ > 0) f = torch::dropout(f, dropout_, true);
  f = ffn2_(f);
  if (train && dropout_ > 0) f = torch::dropout(f, dropout_, true);
  return (y + f) * keep;
}

SasRecNetImpl::SasRecNetImpl(const NetConfig& config) : config_(config) {
  item_emb_ = register_module(
      "item_emb", torch::nn::Embedding(torch::nn::EmbeddingOptions(config.num_items + 1,
                                                                   config.hidden)));
  pos_emb_ = register_module("pos_emb",
                             torch::nn::Embedding(config.max_len, config.hidden));
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < config.blocks; ++i) blocks_->push_back(Block(config));
  last_ln_ = register_module(
      "last_ln", torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.hidden}).eps(1e-8)));
  if (config.text_dim > 0) {
    text_proj_ = register_module(
        "text_proj",
        torch::nn::Linear(torch::nn::LinearOptions(config.text_dim, config.hidden).bias(false)));
    text_ = register_buffer("text", torch::zeros({config.num_items + 1, config.text_dim}));
  }
  // Xavier-normal weights (as the reference port), zero biases, LayerNorm 1/0,
  // zero padding row.
  torch::NoGradGuard no_grad;
  for (auto& p : named_parameters()) {
    if (p.value().dim() >= 2) {
      torch::nn::init::xavier_normal_(p.value());
    } else if (p.key().find("ln.weight") != std::string::npos) {
      p.value().fill_(1.0);
    } else {
      p.value().zero_();
    }
  }
  item_emb_->weight[0].zero_();
}

torch::Tensor SasRecNetImpl::ItemTable() {
  torch::Tensor table = item_emb_->weight;
  if (config_.text_dim > 0) table = table + text_proj_(text_);
  return table;
}

void SasRecNetImpl::SetText(const torch::Tensor& text) {
  TORCH_CHECK(config_.text_dim > 0, "SasRecNet: text_dim is 0");
  TORCH_CHECK(text.dim() == 2 && text.size(0) == config_.num_items + 1 &&
                  text.size(1) == config_.text_dim,
              "SasRecNet: text must be [num_items+1, text_dim]");
  torch::NoGradGuard no_grad;
  text_.copy_(text);
}

torch::Tensor SasRecNetImpl::forward(const torch::Tensor& ids, const torch::Tensor& table) {
  const int64_t b = ids.size(0), t = ids.size(1);
  TORCH_CHECK(t >= 1 && t <= config_.max_len, "SasRecNet: input length outside [1, max_len]");
  torch::Tensor keep_bool = ids.ne(0);                      // [B,T]
  torch::Tensor keep = keep_bool.unsqueeze(-1).to(torch::kFloat);  // [B,T,1]
  torch::Tensor x = torch::embedding(table, ids) * std::sqrt(double(config_.hidden));
  torch::Tensor pos = torch::arange(config_.max_len - t, config_.max_len, torch::kLong);
  x = x + pos_emb_(pos).unsqueeze(0);
  if (is_training() && config_.dropout > 0) x = torch::dropout(x, config_.dropout, true);
  x = x * keep;
  // allowed[b,0,i,j] = j <= i && ids[b,j] != 0
  torch::Tensor causal = torch::ones({t, t}, torch::kBool).tril();
  torch::Tensor allowed = causal.unsqueeze(0).unsqueeze(0) &
                          keep_bool.view({b, 1, 1, t});
  for (const auto& m : *blocks_) x = m->as<Block>()->forward(x, allowed, keep);
  return last_ln_(x) * keep;
}

}  // namespace souk::recommend::sasrec
