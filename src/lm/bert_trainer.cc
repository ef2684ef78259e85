#include "lm/bert_trainer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>
#include <unordered_map>
#include <unordered_set>
#include <functional>

#include "common/file.h"
#include "lm/bert_config.h"
#include "lm/bert_encoder.h"
#include "lm/bert_model.h"
#include "lm/safetensors.h"
#include "lm/wordpiece_tokenizer.h"
#include "lm/wordpiece_trainer.h"

namespace souk::lm {
namespace fs = std::filesystem;
namespace F = torch::nn::functional;

std::string TrainReport::ToJson() const {
  nlohmann::json j = {{"steps", steps},           {"epochs_done", epochs_done},
                      {"seconds", seconds},       {"final_loss", final_loss},
                      {"loss_curve", loss_curve}, {"resumed", resumed},
                      {"stopped_early", stopped_early}, {"best_validation", best_validation},
                      {"validation_curve", validation_curve}};
  return j.dump();
}

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

// Linear warm-up to the peak, then linear decay to zero.
double LearningRate(double peak, int step, int total, float warmup_fraction) {
  const int warmup = std::max(1, static_cast<int>(total * warmup_fraction));
  if (step < warmup) return peak * (step + 1) / warmup;
  return peak * std::max(0.0, double(total - step) / std::max(1, total - warmup));
}

// AdamW with decoupled weight decay on matrices only (not on biases,
// LayerNorm weights or embeddings' norms), as in BERT's recipe.
std::unique_ptr<torch::optim::AdamW> MakeOptimizer(torch::nn::Module& module, double lr, double weight_decay) {
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& p : module.named_parameters(true)) {
    if (!p.value().requires_grad()) continue;
    const std::string& name = p.key();
    if (p.value().dim() < 2 || name.find("LayerNorm") != std::string::npos) {
      no_decay.push_back(p.value());
    } else {
      decay.push_back(p.value());
    }
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                 torch::optim::AdamWOptions(lr).weight_decay(weight_decay).eps(1e-6)));
  groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                    torch::optim::AdamWOptions(lr).weight_decay(0.0).eps(1e-6)));
  return std::make_unique<torch::optim::AdamW>(std::move(groups),
                                                torch::optim::AdamWOptions(lr).weight_decay(weight_decay));
}

void SetLearningRate(torch::optim::AdamW& opt, double lr) {
  for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
}

// Back-propagates `loss`, clips the gradient norm to 1 and takes one AdamW
// step at learning rate `lr`.
void OptimizerStep(const torch::Tensor& loss, torch::optim::AdamW& opt, const std::vector<torch::Tensor>& params,
                   double lr) {
  opt.zero_grad();
  loss.backward();
  torch::nn::utils::clip_grad_norm_(params, 1.0);
  SetLearningRate(opt, lr);
  opt.step();
}

// Padded batch tensors from token id lists.
std::pair<torch::Tensor, torch::Tensor> Pad(const std::vector<const std::vector<int32_t>*>& rows, int64_t pad) {
  int64_t seq = 1;
  for (const auto* r : rows) seq = std::max<int64_t>(seq, r->size());
  auto ids = torch::full({static_cast<int64_t>(rows.size()), seq}, pad, torch::kLong);
  auto mask = torch::zeros({static_cast<int64_t>(rows.size()), seq}, torch::kLong);
  auto ia = ids.accessor<int64_t, 2>();
  auto ma = mask.accessor<int64_t, 2>();
  for (size_t b = 0; b < rows.size(); ++b) {
    for (size_t t = 0; t < rows[b]->size(); ++t) {
      ia[b][t] = (*rows[b])[t];
      ma[b][t] = 1;
    }
  }
  return {ids, mask};
}

// sentence-transformers files so that a trained model is a usable HF folder
// (mean pooling, normalized).
Status WriteSentenceTransformersFiles(const fs::path& dir, int max_length) {
  RETURN_IF_ERROR(WriteFileAtomically(dir / "modules.json", R"([
  {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
  {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
  {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}
]
)"));
  RETURN_IF_ERROR(WriteFileAtomically(dir / "1_Pooling/config.json", R"({
  "word_embedding_dimension": 0,
  "pooling_mode_cls_token": false,
  "pooling_mode_mean_tokens": true,
  "pooling_mode_max_tokens": false,
  "pooling_mode_mean_sqrt_len_tokens": false
}
)"));
  return WriteFileAtomically(dir / "sentence_bert_config.json",
                             "{\"max_seq_length\": " + std::to_string(max_length) + ", \"do_lower_case\": false}\n");
}

Status WriteManifest(const fs::path& dir, const nlohmann::json& extra) {
  nlohmann::json m = {{"kind", "bert"}, {"format_version", 1}};
  for (auto it = extra.begin(); it != extra.end(); ++it) m[it.key()] = it.value();
  return WriteFileAtomically(dir / "manifest.json", m.dump(2) + "\n");
}

// The MLM head of BERT (transform + tied decoder), HF names under cls.predictions.
struct MlmHeadImpl : torch::nn::Module {
  MlmHeadImpl(int hidden, int vocab, float eps) {
    auto predictions = register_module("predictions", std::make_shared<torch::nn::Module>());
    auto transform = predictions->register_module("transform", std::make_shared<torch::nn::Module>());
    dense = transform->register_module("dense", torch::nn::Linear(hidden, hidden));
    norm = transform->register_module("LayerNorm",
                                      torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden}).eps(eps)));
    bias = predictions->register_parameter("bias", torch::zeros({vocab}));
  }
  torch::Tensor forward(const torch::Tensor& h, const torch::Tensor& word_embeddings) {
    auto x = norm->forward(torch::gelu(dense->forward(h)));
    return F::linear(x, word_embeddings, bias);
  }
  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  torch::Tensor bias;
};
TORCH_MODULE(MlmHead);

// Checkpoint state shared by both trainers.
struct CheckpointState {
  int step = 0;
  int epoch = 0;
  std::string fingerprint;
};

Status SaveCheckpoint(const fs::path& dir, torch::nn::Module& model, torch::optim::Optimizer& opt,
                      const CheckpointState& state) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  try {
    torch::serialize::OutputArchive m;
    model.save(m);
    m.save_to((dir / "model.pt.tmp").string());
    torch::serialize::OutputArchive o;
    opt.save(o);
    o.save_to((dir / "optimizer.pt.tmp").string());
  } catch (const std::exception& e) {
    return UnavailableError("cannot write checkpoint in " + dir.string() + ": " + e.what());
  }
  fs::rename(dir / "model.pt.tmp", dir / "model.pt", ec);
  if (!ec) fs::rename(dir / "optimizer.pt.tmp", dir / "optimizer.pt", ec);
  if (ec) return UnavailableError("cannot write checkpoint in " + dir.string() + ": " + ec.message());
  nlohmann::json j = {{"step", state.step}, {"epoch", state.epoch}, {"fingerprint", state.fingerprint}};
  return WriteFileAtomically(dir / "state.json", j.dump());
}

// Loads a checkpoint written for the same data and options; false when there
// is none or it belongs to another run.
StatusOr<bool> LoadCheckpoint(const fs::path& dir, torch::nn::Module& model, torch::optim::Optimizer& opt,
                              CheckpointState* state) {
  std::error_code ec;
  if (!fs::exists(dir / "state.json", ec)) return false;
  std::ifstream in(dir / "state.json");
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_object() || j.value("fingerprint", "") != state->fingerprint) return false;
  try {
    torch::serialize::InputArchive m;
    m.load_from((dir / "model.pt").string());
    model.load(m);
    torch::serialize::InputArchive o;
    o.load_from((dir / "optimizer.pt").string());
    opt.load(o);
  } catch (const std::exception& e) {
    return DataLossError("checkpoint in " + dir.string() + " is unreadable: " + e.what());
  }
  state->step = j.value("step", 0);
  state->epoch = j.value("epoch", 0);
  return true;
}

std::string Fingerprint(std::initializer_list<std::string> parts) {
  std::hash<std::string> h;
  size_t acc = 0;
  for (const auto& p : parts) acc = acc * 1000003u ^ h(p);
  return std::to_string(acc);
}

// Batches of similar length (less padding): shuffle, sort chunks of 50
// batches by length, cut them into batches, shuffle the batch order.
std::vector<std::vector<size_t>> BucketedBatches(size_t n, int batch_size, uint64_t seed,
                                                 const std::function<size_t(size_t)>& length) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  const size_t chunk = static_cast<size_t>(batch_size) * 50;
  for (size_t s = 0; s < n; s += chunk) {
    auto end = order.begin() + std::min(n, s + chunk);
    std::stable_sort(order.begin() + s, end, [&](size_t a, size_t b) { return length(a) < length(b); });
  }
  std::vector<std::vector<size_t>> batches;
  for (size_t s = 0; s + batch_size <= n; s += batch_size) {
    batches.emplace_back(order.begin() + s, order.begin() + s + batch_size);
  }
  std::shuffle(batches.begin(), batches.end(), rng);
  return batches;
}

class LossWindow {
 public:
  void Add(double loss) {
    recent_.push_back(loss);
    if (recent_.size() > 100) recent_.erase(recent_.begin());
    chunk_sum_ += loss;
    if (++chunk_n_ == 50) {
      curve_.push_back(chunk_sum_ / chunk_n_);
      chunk_sum_ = 0;
      chunk_n_ = 0;
    }
  }
  double Mean() const {
    return recent_.empty() ? 0 : std::accumulate(recent_.begin(), recent_.end(), 0.0) / recent_.size();
  }
  std::vector<double> curve_;

 private:
  std::vector<double> recent_;
  double chunk_sum_ = 0;
  int chunk_n_ = 0;
};

}  // namespace

// --- pre-training ----------------------------------------------------------------

StatusOr<TrainReport> PretrainEncoder(std::span<const std::string> texts, const fs::path& out_dir,
                                      const PretrainOptions& options, const ProgressOptions* progress) {
  if (options.hidden_size % options.num_heads != 0) {
    return InvalidArgumentError("pretrain: hidden_size " + std::to_string(options.hidden_size) +
                                " is not divisible by num_heads " + std::to_string(options.num_heads));
  }
  if (options.batch_size < 2 || options.epochs < 1 || options.max_length < 4) {
    return InvalidArgumentError("pretrain: batch_size >= 2, epochs >= 1 and max_length >= 4 are required");
  }
  const auto start = Clock::now();
  if (options.threads > 0) at::set_num_threads(options.threads);

  // Vocabulary and tokenizer.
  WordPieceOptions wp;
  wp.lowercase = options.lowercase;
  wp.max_length = options.max_length;
  std::vector<std::string> vocab;
  if (!options.vocab.empty()) {
    ASSIGN_OR_RETURN(WordPieceTokenizer given, WordPieceTokenizer::FromVocabFile(options.vocab, wp));
    for (int i = 0; i < given.vocab_size(); ++i) vocab.push_back(given.Token(i));
  } else {
    WordPieceTrainOptions train;
    train.vocab_size = options.vocab_size;
    train.tokenizer = wp;
    vocab = TrainWordPieceVocab(std::vector<std::string>(texts.begin(), texts.end()), train, progress);
  }
  ASSIGN_OR_RETURN(WordPieceTokenizer tokenizer, WordPieceTokenizer::FromTokens(vocab, wp));
  std::vector<std::vector<int32_t>> encoded;
  encoded.reserve(texts.size());
  for (const auto& t : texts) {
    auto ids = tokenizer.Encode(t, true, options.max_length);
    if (ids.size() > 3) encoded.push_back(std::move(ids));
  }
  if (encoded.size() < static_cast<size_t>(options.batch_size)) {
    return InvalidArgumentError("pretrain: only " + std::to_string(encoded.size()) +
                                " texts have content; need at least one batch of " +
                                std::to_string(options.batch_size));
  }

  BertConfig config;
  config.vocab_size = tokenizer.vocab_size();
  config.hidden_size = options.hidden_size;
  config.num_hidden_layers = options.num_layers;
  config.num_attention_heads = options.num_heads;
  config.intermediate_size = options.intermediate_size;
  config.max_position_embeddings = std::max(64, options.max_length);
  config.type_vocab_size = 2;
  config.pad_token_id = std::max(0, tokenizer.pad_id());
  RETURN_IF_ERROR(config.Validate());

  torch::manual_seed(options.seed);
  BertModel model(config);
  MlmHead head(config.hidden_size, config.vocab_size, config.layer_norm_eps);
  auto all = std::make_shared<torch::nn::Module>();
  all->register_module("bert", model);
  all->register_module("cls", head);
  model->dropout = options.dropout;
  auto optimizer = MakeOptimizer(*all, options.learning_rate, options.weight_decay);

  const int steps_per_epoch = static_cast<int>(encoded.size() / options.batch_size);
  const int total_steps = steps_per_epoch * options.epochs;
  CheckpointState state;
  state.fingerprint = Fingerprint({"pretrain", std::to_string(encoded.size()), std::to_string(options.hidden_size),
                                   std::to_string(options.num_layers), std::to_string(options.epochs),
                                   std::to_string(options.batch_size), std::to_string(config.vocab_size),
                                   std::to_string(options.seed)});
  const fs::path ckpt = out_dir / "checkpoint";
  TrainReport report;
  ASSIGN_OR_RETURN(report.resumed, LoadCheckpoint(ckpt, *all, *optimizer, &state));

  Progress bar("pretrain encoder", total_steps, progress ? *progress : ProgressOptions{});
  bar.Set(state.step);
  std::mt19937_64 rng(options.seed);
  const int32_t mask_id = tokenizer.mask_id(), cls = tokenizer.cls_id(), sep = tokenizer.sep_id();
  const int64_t pad = config.pad_token_id;
  torch::Tensor word_embeddings = model->named_parameters()["embeddings.word_embeddings.weight"];
  LossWindow window;
  all->train();
  try {
    for (int epoch = 0; epoch < options.epochs && state.step < total_steps; ++epoch) {
      const auto batches = BucketedBatches(encoded.size(), options.batch_size, options.seed + epoch,
                                           [&](size_t i) { return encoded[i].size(); });
      for (int b = 0; b < steps_per_epoch; ++b) {
        const int global = epoch * steps_per_epoch + b;
        if (global < state.step) continue;  // resumed: skip done steps
        std::vector<const std::vector<int32_t>*> rows;
        for (size_t i : batches[b]) rows.push_back(&encoded[i]);
        auto [ids, mask] = Pad(rows, pad);
        // Masking: 15% of real tokens (at least one per text).
        auto labels = torch::full_like(ids, -100);
        auto ia = ids.accessor<int64_t, 2>();
        auto la = labels.accessor<int64_t, 2>();
        std::uniform_real_distribution<double> u(0, 1);
        std::uniform_int_distribution<int> random_token(5, config.vocab_size - 1);
        for (int64_t r = 0; r < ids.size(0); ++r) {
          const auto& row = *rows[r];
          std::vector<size_t> candidates;
          for (size_t t = 0; t < row.size(); ++t) {
            if (row[t] != cls && row[t] != sep) candidates.push_back(t);
          }
          bool any = false;
          for (size_t c = 0; c < candidates.size(); ++c) {
            bool pick = u(rng) < options.mask_probability;
            if (!pick && !any && c + 1 == candidates.size()) pick = true;
            if (!pick) continue;
            any = true;
            const size_t t = candidates[c];
            la[r][t] = ia[r][t];
            const double roll = u(rng);
            if (roll < 0.8) {
              ia[r][t] = mask_id;
            } else if (roll < 0.9) {
              ia[r][t] = random_token(rng);
            }
          }
        }
        auto hidden = model->forward(ids, mask);
        auto flat_labels = labels.view({-1});
        auto selected = flat_labels.ne(-100).nonzero().squeeze(1);
        auto h = hidden.view({-1, config.hidden_size}).index_select(0, selected);
        auto logits = head->forward(h, word_embeddings);
        auto loss = F::cross_entropy(logits, flat_labels.index_select(0, selected));
        OptimizerStep(loss, *optimizer, all->parameters(),
                      LearningRate(options.learning_rate, global, total_steps, options.warmup_fraction));
        state.step = global + 1;
        state.epoch = epoch;
        window.Add(loss.item<double>());
        bar.Set(state.step);
        bar.SetStatus("mlm loss " + std::to_string(window.Mean()).substr(0, 5));
        if (options.checkpoint_every > 0 && state.step % options.checkpoint_every == 0) {
          RETURN_IF_ERROR(SaveCheckpoint(ckpt, *all, *optimizer, state));
        }
        if (options.max_seconds > 0 && Seconds(start) > options.max_seconds) {
          report.stopped_early = true;
          break;
        }
      }
      report.epochs_done = epoch + 1;
      if (report.stopped_early) break;
    }
  } catch (const std::exception& e) {
    return InternalError(std::string("pretrain: libtorch failed: ") + e.what());
  }
  bar.Finish();
  RETURN_IF_ERROR(SaveCheckpoint(ckpt, *all, *optimizer, state));

  // The encoder folder.
  RETURN_IF_ERROR(SaveBertWeights(model, out_dir, SaveDType::kF32, {{"souk", "pretrain"}}));
  RETURN_IF_ERROR(tokenizer.Save(out_dir));
  RETURN_IF_ERROR(WriteSentenceTransformersFiles(out_dir, options.max_length));
  report.steps = state.step;
  report.seconds = Seconds(start);
  report.final_loss = window.Mean();
  report.loss_curve = window.curve_;
  RETURN_IF_ERROR(WriteManifest(out_dir, {{"max_length", options.max_length},
                                          {"trained", "pretrain-mlm"},
                                          {"train_report", nlohmann::json::parse(report.ToJson())}}));
  return report;
}

// --- contrastive fine-tuning -----------------------------------------------------------

namespace {

// Mean-pooled, normalized sentence vectors of a batch of token id lists.
torch::Tensor Embed(BertModel& model, const std::vector<const std::vector<int32_t>*>& rows, int64_t pad) {
  auto [ids, mask] = Pad(rows, pad);
  return PoolHidden(model->forward(ids, mask), mask, PoolingMode::kMean, /*normalize=*/true);
}

// MRR@10 of each validation query's positives among the candidate documents.
double ValidationMrr(BertModel& model, const std::vector<std::vector<int32_t>>& queries,
                     const std::vector<std::vector<int>>& positives, const std::vector<std::vector<int32_t>>& docs,
                     int64_t pad, int batch) {
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  auto embed_all = [&](const std::vector<std::vector<int32_t>>& texts) {
    std::vector<torch::Tensor> parts;
    for (size_t s = 0; s < texts.size(); s += batch) {
      std::vector<const std::vector<int32_t>*> rows;
      for (size_t i = s; i < std::min(texts.size(), s + batch); ++i) rows.push_back(&texts[i]);
      parts.push_back(Embed(model, rows, pad));
    }
    return torch::cat(parts, 0);
  };
  auto q = embed_all(queries);
  auto d = embed_all(docs);
  auto scores = torch::matmul(q, d.t());
  auto top = std::get<1>(scores.topk(std::min<int64_t>(10, d.size(0)), 1));
  auto ta = top.accessor<int64_t, 2>();
  double mrr = 0;
  for (int64_t i = 0; i < top.size(0); ++i) {
    std::unordered_set<int> pos(positives[i].begin(), positives[i].end());
    for (int64_t r = 0; r < top.size(1); ++r) {
      if (pos.count(static_cast<int>(ta[i][r]))) {
        mrr += 1.0 / (r + 1);
        break;
      }
    }
  }
  if (was_training) model->train();
  return queries.empty() ? 0 : mrr / queries.size();
}

}  // namespace

StatusOr<TrainReport> FinetuneEncoder(const fs::path& base_dir, std::span<const TrainPair> pairs,
                                      std::span<const std::string> corpus, const fs::path& out_dir,
                                      const FinetuneOptions& options, const ProgressOptions* progress) {
  if (options.batch_size < 2 || options.epochs < 1) {
    return InvalidArgumentError("finetune: batch_size >= 2 and epochs >= 1 are required");
  }
  if (options.temperature <= 0) return InvalidArgumentError("finetune: temperature must be positive");
  const auto start = Clock::now();
  if (options.threads > 0) at::set_num_threads(options.threads);
  ASSIGN_OR_RETURN(ModelFolder folder, InspectModelFolder(base_dir));
  ASSIGN_OR_RETURN(WordPieceTokenizer tokenizer, WordPieceTokenizer::FromDirectory(base_dir));
  ASSIGN_OR_RETURN(auto weights, SafetensorsFile::Open(folder.weights));
  const int max_length = std::min(options.max_length, folder.config.max_position_embeddings);
  const int64_t pad = std::max(0, tokenizer.pad_id());

  // Token ids; texts deduplicated so that repeated items are encoded once per
  // batch and duplicate positives are not used as each other's negatives.
  std::unordered_map<std::string, int> text_ids;
  std::vector<std::vector<int32_t>> texts;
  auto intern = [&](const std::string& prefix, const std::string& t) {
    auto [it, inserted] = text_ids.emplace(prefix + "\x1f" + t, static_cast<int>(texts.size()));
    if (inserted) texts.push_back(tokenizer.Encode(prefix + t, true, max_length));
    return it->second;
  };
  struct Pair {
    int q, d;
  };
  std::vector<Pair> all_pairs;
  all_pairs.reserve(pairs.size());
  for (const auto& p : pairs) {
    if (p.query.empty() || p.positive.empty()) continue;
    all_pairs.push_back({intern(options.query_prefix, p.query), intern(options.document_prefix, p.positive)});
  }
  // Validation split by query.
  std::mt19937_64 rng(options.seed);
  std::vector<int> queries;
  for (const auto& p : all_pairs) queries.push_back(p.q);
  std::sort(queries.begin(), queries.end());
  queries.erase(std::unique(queries.begin(), queries.end()), queries.end());
  std::shuffle(queries.begin(), queries.end(), rng);
  const size_t n_val = options.validation_fraction > 0
                           ? std::min(queries.size() / 2,
                                      static_cast<size_t>(std::ceil(queries.size() * options.validation_fraction)))
                           : 0;
  std::unordered_set<int> val_queries(queries.begin(), queries.begin() + n_val);
  std::vector<Pair> train_pairs;
  std::map<int, std::vector<int>> val_positive_docs;
  for (const auto& p : all_pairs) {
    if (val_queries.count(p.q)) {
      val_positive_docs[p.q].push_back(p.d);
    } else {
      train_pairs.push_back(p);
    }
  }
  if (train_pairs.size() < static_cast<size_t>(options.batch_size)) {
    return InvalidArgumentError("finetune: " + std::to_string(train_pairs.size()) +
                                " training pairs, fewer than one batch of " + std::to_string(options.batch_size));
  }
  // Validation set: queries, their positives and distractors from the corpus.
  std::vector<std::vector<int32_t>> val_q, val_docs;
  std::vector<std::vector<int>> val_pos;
  std::unordered_map<int, int> doc_slot;
  for (const auto& [q, docs] : val_positive_docs) {
    val_q.push_back(texts[q]);
    std::vector<int> slots;
    for (int d : docs) {
      auto [it, inserted] = doc_slot.emplace(d, static_cast<int>(val_docs.size()));
      if (inserted) val_docs.push_back(texts[d]);
      slots.push_back(it->second);
    }
    val_pos.push_back(slots);
  }
  if (!val_q.empty()) {
    std::vector<size_t> idx(corpus.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::shuffle(idx.begin(), idx.end(), rng);
    for (size_t i = 0; i < idx.size() && static_cast<int>(i) < options.validation_corpus; ++i) {
      auto key = options.document_prefix + "\x1f" + corpus[idx[i]];
      auto it = text_ids.find(key);
      if (it != text_ids.end() && doc_slot.count(it->second)) continue;
      val_docs.push_back(tokenizer.Encode(options.document_prefix + corpus[idx[i]], true, max_length));
    }
  }

  torch::manual_seed(options.seed);
  BertModel model(folder.config);
  RETURN_IF_ERROR(model->LoadWeights(*weights));
  if (options.lora) model->EnableLora(options.lora_options, options.seed);
  model->dropout = options.dropout;
  auto optimizer = MakeOptimizer(*model, options.learning_rate, options.weight_decay);

  const int steps_per_epoch = static_cast<int>(train_pairs.size() / options.batch_size);
  const int total_steps = steps_per_epoch * options.epochs;
  CheckpointState state;
  state.fingerprint = Fingerprint({"finetune", folder.weights.string(), std::to_string(train_pairs.size()),
                                   std::to_string(options.epochs), std::to_string(options.batch_size),
                                   std::to_string(options.lora), std::to_string(options.seed)});
  const fs::path ckpt = out_dir / "checkpoint";
  TrainReport report;
  ASSIGN_OR_RETURN(report.resumed, LoadCheckpoint(ckpt, *model, *optimizer, &state));

  Progress bar(options.lora ? "fine-tune encoder (LoRA)" : "fine-tune encoder", total_steps,
               progress ? *progress : ProgressOptions{});
  bar.Set(state.step);
  LossWindow window;
  std::vector<std::pair<std::string, torch::Tensor>> best;
  auto snapshot = [&] {
    best.clear();
    for (const auto& p : model->named_parameters(true)) best.emplace_back(p.key(), p.value().detach().clone());
  };
  int bad_checks = 0;
  auto validate = [&]() -> bool {  // true: stop
    if (val_q.empty()) return false;
    const double mrr = ValidationMrr(model, val_q, val_pos, val_docs, pad, 128);
    report.validation_curve.push_back(mrr);
    if (mrr > report.best_validation) {
      report.best_validation = mrr;
      snapshot();
      bad_checks = 0;
    } else if (++bad_checks >= options.patience) {
      return true;
    }
    return false;
  };
  if (!val_q.empty() && state.step == 0) validate();  // the base model's score

  const double scale = 1.0 / options.temperature;
  model->train();
  try {
    bool stop = false;
    for (int epoch = 0; epoch < options.epochs && !stop && state.step < total_steps; ++epoch) {
      // Bucketed by document length (the longer side).
      const auto batches = BucketedBatches(train_pairs.size(), options.batch_size, options.seed + 17 * epoch,
                                           [&](size_t i) { return texts[train_pairs[i].d].size(); });
      for (int b = 0; b < steps_per_epoch; ++b) {
        const int global = epoch * steps_per_epoch + b;
        if (global < state.step) continue;
        std::vector<const std::vector<int32_t>*> qs, ds;
        std::vector<int> doc_ids;
        for (size_t i : batches[b]) {
          const Pair& p = train_pairs[i];
          qs.push_back(&texts[p.q]);
          ds.push_back(&texts[p.d]);
          doc_ids.push_back(p.d);
        }
        auto q = Embed(model, qs, pad);
        auto d = Embed(model, ds, pad);
        auto logits = torch::matmul(q, d.t()) * scale;
        // The same item twice in a batch is not a negative of itself.
        auto same = torch::zeros({options.batch_size, options.batch_size}, torch::kBool);
        auto same_a = same.accessor<bool, 2>();
        for (int i = 0; i < options.batch_size; ++i) {
          for (int j = 0; j < options.batch_size; ++j) {
            if (i != j && doc_ids[i] == doc_ids[j]) same_a[i][j] = true;
          }
        }
        logits = logits.masked_fill(same, -1e4);
        auto labels = torch::arange(options.batch_size, torch::kLong);
        auto loss = 0.5 * (F::cross_entropy(logits, labels) + F::cross_entropy(logits.t(), labels));
        OptimizerStep(loss, *optimizer, model->parameters(),
                      LearningRate(options.learning_rate, global, total_steps, options.warmup_fraction));
        state.step = global + 1;
        state.epoch = epoch;
        window.Add(loss.item<double>());
        bar.Set(state.step);
        bar.SetStatus("loss " + std::to_string(window.Mean()).substr(0, 5) +
                      (report.best_validation >= 0 ? " val mrr@10 " + std::to_string(report.best_validation).substr(0, 5)
                                                   : ""));
        if (options.checkpoint_every > 0 && state.step % options.checkpoint_every == 0) {
          RETURN_IF_ERROR(SaveCheckpoint(ckpt, *model, *optimizer, state));
        }
        if (options.validate_every > 0 && state.step % options.validate_every == 0 && validate()) {
          stop = true;
          report.stopped_early = true;
          break;
        }
        if (options.max_seconds > 0 && Seconds(start) > options.max_seconds) {
          stop = true;
          report.stopped_early = true;
          break;
        }
      }
      report.epochs_done = epoch + 1;
      if (!stop && options.validate_every <= 0 && validate()) {
        stop = true;
        report.stopped_early = true;
      }
    }
  } catch (const std::exception& e) {
    return InternalError(std::string("finetune: libtorch failed: ") + e.what());
  }
  bar.Finish();
  if (!best.empty()) {  // keep the best validated weights
    torch::NoGradGuard no_grad;
    auto params = model->named_parameters(true);
    for (const auto& [name, value] : best) params[name].copy_(value);
  }
  RETURN_IF_ERROR(SaveCheckpoint(ckpt, *model, *optimizer, state));

  // Output folder: tokenizer and sentence-transformers files of the base, then
  // the weights (full) or base weights + adapters (LoRA).
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  RETURN_IF_ERROR(tokenizer.Save(out_dir));
  RETURN_IF_ERROR(WriteSentenceTransformersFiles(out_dir, max_length));
  if (options.lora) {
    fs::copy_file(folder.weights, out_dir / "model.safetensors", fs::copy_options::overwrite_existing, ec);
    if (ec) return UnavailableError("cannot copy " + folder.weights.string() + ": " + ec.message());
    RETURN_IF_ERROR(WriteFileAtomically(out_dir / "config.json", folder.config.ToJson()));
    RETURN_IF_ERROR(SaveLoraWeights(model, options.lora_options, out_dir / "lora"));
  } else {
    RETURN_IF_ERROR(SaveBertWeights(model, out_dir, SaveDType::kF32, {{"souk", "finetune"}}));
  }
  report.steps = state.step;
  report.seconds = Seconds(start);
  report.final_loss = window.Mean();
  report.loss_curve = window.curve_;
  RETURN_IF_ERROR(WriteManifest(out_dir, {{"max_length", max_length},
                                          {"query_prefix", options.query_prefix},
                                          {"document_prefix", options.document_prefix},
                                          {"trained", options.lora ? "finetune-lora" : "finetune"},
                                          {"base", base_dir.string()},
                                          {"train_report", nlohmann::json::parse(report.ToJson())}}));
  return report;
}

}  // namespace souk::lm
