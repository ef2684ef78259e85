#include "recommend/sasrec_trainer.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <numeric>
#include <random>

#include <fmt/format.h>

#include "common/file.h"
#include "lm/safetensors.h"
#include "recommend/sasrec_model.h"

namespace souk::recommend {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kFormatVersion = 1;
constexpr std::string_view kKind = "sasrec";
constexpr int kValidChunk = 512;
// Batches per length-sorted window (options.length_buckets).
constexpr size_t kBucketBatches = 32;
// Largest logits block of the full-softmax loss (floats; 16 MB).
constexpr int64_t kCeChunkElements = int64_t{4} << 20;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

constexpr std::array<std::string_view, 19> kOptionKeys = {
    "max_len",      "hidden",   "blocks",      "heads",       "dropout", "activation",
    "loss",         "negatives", "sampling",   "epochs",      "batch_size", "lr",
    "weight_decay", "patience", "valid_users", "max_seconds", "seed",    "threads",
    "length_buckets"};

// The last max_len in-range items of `history` (as 1-based ids), oldest first.
void TailIds(std::span<const int32_t> history, int32_t num_items, int max_len,
             std::vector<int64_t>* out) {
  out->clear();
  for (size_t i = history.size(); i-- > 0 && out->size() < static_cast<size_t>(max_len);) {
    const int32_t item = history[i];
    if (item >= 0 && item < num_items) out->push_back(int64_t{item} + 1);
  }
  std::reverse(out->begin(), out->end());
}

// Left-padded [rows.size(), T] id tensor (T = longest row, at least 1).
torch::Tensor PadLeft(const std::vector<std::vector<int64_t>>& rows) {
  size_t t = 1;
  for (const auto& r : rows) t = std::max(t, r.size());
  torch::Tensor ids = torch::zeros({static_cast<int64_t>(rows.size()), static_cast<int64_t>(t)},
                                   torch::kLong);
  int64_t* p = ids.data_ptr<int64_t>();
  for (size_t i = 0; i < rows.size(); ++i) {
    std::copy(rows[i].begin(), rows[i].end(), p + i * t + (t - rows[i].size()));
  }
  return ids;
}

sasrec::NetConfig ConfigOf(const SasRecOptions& o, int32_t num_items, int32_t text_dim) {
  sasrec::NetConfig c;
  c.num_items = num_items;
  c.max_len = o.max_len;
  c.hidden = o.hidden;
  c.blocks = o.blocks;
  c.heads = o.heads;
  c.dropout = o.dropout;
  c.gelu = o.activation == "gelu";
  c.text_dim = text_dim;
  return c;
}

// Named tensors of the module (parameters, then buffers).
std::vector<std::pair<std::string, torch::Tensor>> NamedState(torch::nn::Module& m) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : m.named_parameters()) out.emplace_back(p.key(), p.value());
  for (const auto& b : m.named_buffers()) out.emplace_back(b.key(), b.value());
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// Options

Status ValidateSasRecOptions(const SasRecOptions& o, std::string_view who) {
  auto bad = [&](std::string_view field, const std::string& what) {
    return InvalidArgumentError(fmt::format("{}: option '{}' {}", who, field, what));
  };
  if (o.max_len < 1 || o.max_len > 4096) return bad("max_len", "must be in [1, 4096]");
  if (o.hidden < 1 || o.hidden > 4096) return bad("hidden", "must be in [1, 4096]");
  if (o.blocks < 1 || o.blocks > 64) return bad("blocks", "must be in [1, 64]");
  if (o.heads < 1 || o.hidden % o.heads != 0) {
    return bad("heads", fmt::format("must be >= 1 and divide hidden ({})", o.hidden));
  }
  if (!(o.dropout >= 0 && o.dropout < 1)) return bad("dropout", "must be in [0, 1)");
  if (o.activation != "relu" && o.activation != "gelu") {
    return bad("activation", fmt::format("'{}' is not relu or gelu", o.activation));
  }
  if (o.loss != "ce" && o.loss != "sampled" && o.loss != "bce") {
    return bad("loss", fmt::format("'{}' is not ce, sampled or bce", o.loss));
  }
  if (o.negatives < 1) return bad("negatives", "must be >= 1");
  if (o.sampling != "uniform" && o.sampling != "popularity") {
    return bad("sampling", fmt::format("'{}' is not uniform or popularity", o.sampling));
  }
  if (o.epochs < 1) return bad("epochs", "must be >= 1");
  if (o.batch_size < 1) return bad("batch_size", "must be >= 1");
  if (!(o.lr > 0 && std::isfinite(o.lr))) return bad("lr", "must be a positive number");
  if (!(o.weight_decay >= 0 && std::isfinite(o.weight_decay))) {
    return bad("weight_decay", "must be >= 0");
  }
  if (o.patience < 0) return bad("patience", "must be >= 0");
  if (o.valid_users < 0) return bad("valid_users", "must be >= 0");
  if (!(o.max_seconds >= 0)) return bad("max_seconds", "must be >= 0");
  if (o.threads < 0 || o.threads > 256) return bad("threads", "must be in [0, 256]");
  return OkStatus();
}

std::span<const std::string_view> SasRecOptionKeys() { return kOptionKeys; }

StatusOr<SasRecOptions> SasRecOptionsFromJson(const json& j, const SasRecOptions& base,
                                              std::string_view who) {
  SasRecOptions o = base;
  if (j.is_null()) return o;
  if (!j.is_object()) return InvalidArgumentError(fmt::format("{}: options must be a JSON object", who));
  Status status;
  auto get_int = [&](const char* key, int* out) {
    if (!status.ok() || !j.contains(key)) return;
    const json& v = j[key];
    if (!v.is_number_integer() || v.get<int64_t>() < std::numeric_limits<int>::min() ||
        v.get<int64_t>() > std::numeric_limits<int>::max()) {
      status = InvalidArgumentError(fmt::format("{}: option '{}' must be an integer", who, key));
      return;
    }
    *out = static_cast<int>(v.get<int64_t>());
  };
  auto get_float = [&](const char* key, auto* out) {
    if (!status.ok() || !j.contains(key)) return;
    const json& v = j[key];
    if (!v.is_number()) {
      status = InvalidArgumentError(fmt::format("{}: option '{}' must be a number", who, key));
      return;
    }
    *out = static_cast<std::remove_pointer_t<decltype(out)>>(v.get<double>());
  };
  auto get_string = [&](const char* key, std::string* out) {
    if (!status.ok() || !j.contains(key)) return;
    const json& v = j[key];
    if (!v.is_string()) {
      status = InvalidArgumentError(fmt::format("{}: option '{}' must be a string", who, key));
      return;
    }
    *out = v.get<std::string>();
  };
  get_int("max_len", &o.max_len);
  get_int("hidden", &o.hidden);
  get_int("blocks", &o.blocks);
  get_int("heads", &o.heads);
  get_float("dropout", &o.dropout);
  get_string("activation", &o.activation);
  get_string("loss", &o.loss);
  get_int("negatives", &o.negatives);
  get_string("sampling", &o.sampling);
  get_int("epochs", &o.epochs);
  get_int("batch_size", &o.batch_size);
  get_float("lr", &o.lr);
  get_float("weight_decay", &o.weight_decay);
  get_int("patience", &o.patience);
  get_int("valid_users", &o.valid_users);
  get_float("max_seconds", &o.max_seconds);
  if (status.ok() && j.contains("seed")) {
    if (!j["seed"].is_number_unsigned() && !(j["seed"].is_number_integer() &&
                                             j["seed"].get<int64_t>() >= 0)) {
      status = InvalidArgumentError(
          fmt::format("{}: option 'seed' must be a non-negative integer", who));
    } else {
      o.seed = j["seed"].get<uint64_t>();
    }
  }
  get_int("threads", &o.threads);
  if (status.ok() && j.contains("length_buckets")) {
    if (!j["length_buckets"].is_boolean()) {
      status = InvalidArgumentError(
          fmt::format("{}: option 'length_buckets' must be true or false", who));
    } else {
      o.length_buckets = j["length_buckets"].get<bool>();
    }
  }
  RETURN_IF_ERROR(status);
  RETURN_IF_ERROR(ValidateSasRecOptions(o, who));
  return o;
}

json SasRecOptionsToJson(const SasRecOptions& o) {
  return json{{"max_len", o.max_len},
              {"hidden", o.hidden},
              {"blocks", o.blocks},
              {"heads", o.heads},
              {"dropout", o.dropout},
              {"activation", o.activation},
              {"loss", o.loss},
              {"negatives", o.negatives},
              {"sampling", o.sampling},
              {"epochs", o.epochs},
              {"batch_size", o.batch_size},
              {"lr", o.lr},
              {"weight_decay", o.weight_decay},
              {"patience", o.patience},
              {"valid_users", o.valid_users},
              {"max_seconds", o.max_seconds},
              {"seed", o.seed},
              {"threads", o.threads},
              {"length_buckets", o.length_buckets}};
}

// ---------------------------------------------------------------------------
// Model

struct SasRecModel::Impl {
  SasRecOptions options;
  int32_t num_items = 0;
  int32_t text_dim = 0;
  int best_epoch = 0;
  sasrec::SasRecNet net{nullptr};
  torch::Tensor table;  // [N+1, H], eval-mode item table (no grad)
  torch::Tensor items;  // table rows 1..N

  // Puts the net in eval mode and caches the item table.
  void Freeze() {
    net->eval();
    torch::NoGradGuard no_grad;
    table = net->ItemTable().detach().contiguous();
    items = table.narrow(0, 1, num_items);
  }

  // Last-position hidden states [B, H] of the histories (zeros for empty ones).
  torch::Tensor Encode(std::span<const std::vector<int32_t>> histories,
                       const torch::Tensor& item_table) const {
    std::vector<std::vector<int64_t>> rows(histories.size());
    for (size_t i = 0; i < histories.size(); ++i) {
      TailIds(histories[i], num_items, options.max_len, &rows[i]);
    }
    torch::Tensor ids = PadLeft(rows);
    torch::Tensor h = net.ptr()->forward(ids, item_table);
    return h.select(1, h.size(1) - 1);
  }

  struct ValidResult {
    double ndcg10 = 0, hr10 = 0;
  };
  // NDCG@10 / HR@10 of the validation targets, full ranking with the history
  // items removed (except the target), ties broken by item index.
  ValidResult Validate(std::span<const std::vector<int32_t>> histories,
                       std::span<const int32_t> targets, std::span<const size_t> users);
};

SasRecModel::Impl::ValidResult SasRecModel::Impl::Validate(
    std::span<const std::vector<int32_t>> histories, std::span<const int32_t> targets,
    std::span<const size_t> users) {
  SasRecModel::Impl& m = *this;
  m.net->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor table = m.net->ItemTable();
  torch::Tensor items = table.narrow(0, 1, m.num_items);
  double ndcg = 0, hr = 0;
  std::vector<std::vector<int32_t>> batch;
  std::vector<int32_t> seen;
  for (size_t start = 0; start < users.size(); start += kValidChunk) {
    const size_t end = std::min(users.size(), start + kValidChunk);
    batch.clear();
    for (size_t i = start; i < end; ++i) batch.push_back(histories[users[i]]);
    torch::Tensor h = m.Encode(batch, table);
    torch::Tensor scores = h.mm(items.t()).contiguous();
    const float* s = scores.data_ptr<float>();
    for (size_t i = start; i < end; ++i) {
      const float* row = s + (i - start) * m.num_items;
      const int32_t t = targets[users[i]];
      const float st = row[t];
      auto ahead = [&](int32_t j) { return row[j] > st || (row[j] == st && j < t); };
      int64_t rank = 1;
      for (int32_t j = 0; j < m.num_items; ++j) rank += ahead(j) ? 1 : 0;
      seen.assign(histories[users[i]].begin(), histories[users[i]].end());
      std::sort(seen.begin(), seen.end());
      seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
      for (int32_t j : seen) {
        if (j != t && j >= 0 && j < m.num_items && ahead(j)) --rank;
      }
      if (rank <= 10) {
        hr += 1;
        ndcg += 1.0 / std::log2(static_cast<double>(rank) + 1.0);
      }
    }
  }
  m.net->train();
  const double n = std::max<size_t>(users.size(), 1);
  return {ndcg / n, hr / n};
}



SasRecModel::SasRecModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SasRecModel::~SasRecModel() = default;
int32_t SasRecModel::num_items() const { return impl_->num_items; }
const SasRecOptions& SasRecModel::options() const { return impl_->options; }
int32_t SasRecModel::text_dim() const { return impl_->text_dim; }

StatusOr<std::unique_ptr<SasRecModel>> SasRecModel::Train(
    std::span<const std::vector<int32_t>> sequences, int32_t num_items,
    const SasRecOptions& options, const SasRecValidation* validation,
    const SasRecItemText* text, const ProgressOptions& progress, SasRecTrainReport* report) {
  RETURN_IF_ERROR(ValidateSasRecOptions(options));
  if (num_items < 1) return InvalidArgumentError("sasrec: num_items must be >= 1");
  for (size_t u = 0; u < sequences.size(); ++u) {
    for (int32_t item : sequences[u]) {
      if (item < 0 || item >= num_items) {
        return InvalidArgumentError(fmt::format(
            "sasrec: sequence {} holds item {} outside [0, {})", u, item, num_items));
      }
    }
  }
  if (text != nullptr && text->dim > 0 &&
      text->values.size() != static_cast<size_t>(num_items) * text->dim) {
    return InvalidArgumentError(fmt::format(
        "sasrec: item text has {} values, expected num_items {} x dim {}", text->values.size(),
        num_items, text->dim));
  }
  std::vector<size_t> valid_users;
  if (validation != nullptr) {
    if (validation->histories.size() != validation->targets.size()) {
      return InvalidArgumentError(fmt::format(
          "sasrec: validation has {} histories but {} targets", validation->histories.size(),
          validation->targets.size()));
    }
    for (size_t u = 0; u < validation->targets.size(); ++u) {
      const int32_t t = validation->targets[u];
      if (t >= num_items) {
        return InvalidArgumentError(fmt::format(
            "sasrec: validation target {} of user {} outside [0, {})", t, u, num_items));
      }
      if (t >= 0 && !validation->histories[u].empty()) valid_users.push_back(u);
    }
  }
  std::vector<size_t> train_users;
  for (size_t u = 0; u < sequences.size(); ++u) {
    if (sequences[u].size() >= 2) train_users.push_back(u);
  }
  if (train_users.empty()) {
    return FailedPreconditionError("sasrec: no sequence has two items to learn a transition from");
  }

  const auto start = Clock::now();
  try {
    if (options.threads > 0) at::set_num_threads(options.threads);
    torch::manual_seed(options.seed);
    std::mt19937_64 rng(options.seed);
    if (options.valid_users > 0 && valid_users.size() > static_cast<size_t>(options.valid_users)) {
      std::shuffle(valid_users.begin(), valid_users.end(), rng);
      valid_users.resize(options.valid_users);
      std::sort(valid_users.begin(), valid_users.end());
    }

    auto impl = std::make_unique<Impl>();
    impl->options = options;
    impl->num_items = num_items;
    impl->text_dim = (text != nullptr) ? std::max(text->dim, 0) : 0;
    impl->net = sasrec::SasRecNet(ConfigOf(options, num_items, impl->text_dim));
    if (impl->text_dim > 0) {
      torch::Tensor t = torch::zeros({num_items + 1, impl->text_dim});
      std::memcpy(t.data_ptr<float>() + impl->text_dim, text->values.data(),
                  text->values.size() * sizeof(float));
      impl->net->SetText(t);
    }
    sasrec::SasRecNet& net = impl->net;
    net->train();

    const int64_t n = num_items;
    const int64_t hidden = options.hidden;
    const int max_len = options.max_len;
    const bool bce = options.loss == "bce";
    const bool sampled = options.loss == "sampled";

    // Per-sequence item sets for BCE negatives (items the user has seen).
    std::vector<std::vector<int32_t>> seen;
    if (bce) {
      seen.resize(sequences.size());
      for (size_t u : train_users) {
        seen[u] = sequences[u];
        std::sort(seen[u].begin(), seen[u].end());
        seen[u].erase(std::unique(seen[u].begin(), seen[u].end()), seen[u].end());
      }
    }
    // Popularity sampling table (cumulative counts of training targets).
    std::vector<double> cumulative;
    torch::Tensor log_q;
    if (sampled && options.sampling == "popularity") {
      std::vector<double> counts(n, 0.0);
      for (size_t u : train_users) {
        for (size_t i = 1; i < sequences[u].size(); ++i) counts[sequences[u][i]] += 1;
      }
      for (double& c : counts) c += 1;  // every item stays reachable
      cumulative.resize(n);
      std::partial_sum(counts.begin(), counts.end(), cumulative.begin());
      const double total = cumulative.back();
      log_q = torch::empty({n + 1});
      float* lq = log_q.data_ptr<float>();
      lq[0] = 0;
      for (int64_t i = 0; i < n; ++i) lq[i + 1] = static_cast<float>(std::log(counts[i] / total));
    }

    torch::optim::AdamW optimizer(
        net->parameters(),
        torch::optim::AdamWOptions(options.lr).betas({0.9, 0.98}).eps(1e-8).weight_decay(
            options.weight_decay));

    const int64_t batches =
        (static_cast<int64_t>(train_users.size()) + options.batch_size - 1) / options.batch_size;
    ProgressOptions popts = progress;
    popts.unit = "batches";
    Progress bar("sasrec train", static_cast<uint64_t>(batches) * options.epochs, popts);

    std::vector<torch::Tensor> best;
    auto snapshot = [&] {
      best.clear();
      for (auto& [name, t] : NamedState(*net)) best.push_back(t.detach().clone());
    };
    SasRecTrainReport local;
    SasRecTrainReport& rep = report != nullptr ? *report : local;
    rep = SasRecTrainReport{};
    int bad_epochs = 0;

    std::vector<size_t> order = train_users;
    std::vector<std::vector<int64_t>> inputs(options.batch_size), targets(options.batch_size);
    std::uniform_int_distribution<int64_t> uniform_item(1, n);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (int epoch = 1; epoch <= options.epochs; ++epoch) {
      const auto epoch_start = Clock::now();
      std::shuffle(order.begin(), order.end(), rng);
      std::vector<size_t> batch_order(static_cast<size_t>(batches));
      std::iota(batch_order.begin(), batch_order.end(), size_t{0});
      if (options.length_buckets) {
        // Sort windows of kBucketBatches batches by training length so a batch
        // pads to a similar length, then visit the batches in random order.
        auto train_len = [&](size_t u) {
          return std::min(sequences[u].size(), static_cast<size_t>(max_len) + 1);
        };
        const size_t window = static_cast<size_t>(options.batch_size) * kBucketBatches;
        for (size_t w = 0; w < order.size(); w += window) {
          auto end = order.begin() + std::min(order.size(), w + window);
          std::stable_sort(order.begin() + w, end,
                           [&](size_t a, size_t b) { return train_len(a) < train_len(b); });
        }
        std::shuffle(batch_order.begin(), batch_order.end(), rng);
      }
      double loss_sum = 0;
      int64_t loss_count = 0;
      for (int64_t b = 0; b < batches; ++b) {
        const size_t first = batch_order[b] * options.batch_size;
        const size_t last = std::min(order.size(), first + options.batch_size);
        const size_t rows = last - first;
        size_t t_max = 1;
        for (size_t r = 0; r < rows; ++r) {
          const auto& seq = sequences[order[first + r]];
          const size_t m = std::min(seq.size(), static_cast<size_t>(max_len) + 1);
          inputs[r].assign(seq.end() - m, seq.end() - 1);
          targets[r].assign(seq.end() - m + 1, seq.end());
          for (auto& x : inputs[r]) ++x;
          for (auto& x : targets[r]) ++x;
          t_max = std::max(t_max, m - 1);
        }
        torch::Tensor ids = torch::zeros({static_cast<int64_t>(rows), static_cast<int64_t>(t_max)},
                                         torch::kLong);
        torch::Tensor tgt_full = torch::zeros_like(ids);
        int64_t* pi = ids.data_ptr<int64_t>();
        int64_t* pt = tgt_full.data_ptr<int64_t>();
        for (size_t r = 0; r < rows; ++r) {
          const size_t off = r * t_max + (t_max - inputs[r].size());
          std::copy(inputs[r].begin(), inputs[r].end(), pi + off);
          std::copy(targets[r].begin(), targets[r].end(), pt + off);
        }
        torch::Tensor flat_t = tgt_full.view({-1});
        torch::Tensor where = flat_t.nonzero().squeeze(1);
        torch::Tensor tgt = flat_t.index_select(0, where);  // 1..N

        torch::Tensor table = net->ItemTable();
        torch::Tensor h = net->forward(ids, table).view({-1, hidden}).index_select(0, where);
        torch::Tensor loss;
        if (bce) {
          // One negative per position, not in the user's sequence.
          torch::Tensor neg_full = torch::zeros_like(tgt_full);
          int64_t* pn = neg_full.data_ptr<int64_t>();
          for (size_t r = 0; r < rows; ++r) {
            const auto& s = seen[order[first + r]];
            const size_t off = r * t_max + (t_max - inputs[r].size());
            for (size_t i = 0; i < inputs[r].size(); ++i) {
              int64_t j = uniform_item(rng);
              for (int tries = 0; tries < 32 && std::binary_search(s.begin(), s.end(),
                                                                   static_cast<int32_t>(j - 1));
                   ++tries) {
                j = uniform_item(rng);
              }
              pn[off + i] = j;
            }
          }
          torch::Tensor neg = neg_full.view({-1}).index_select(0, where);
          torch::Tensor pos_logit = (h * table.index_select(0, tgt)).sum(-1);
          torch::Tensor neg_logit = (h * table.index_select(0, neg)).sum(-1);
          loss = torch::binary_cross_entropy_with_logits(pos_logit, torch::ones_like(pos_logit)) +
                 torch::binary_cross_entropy_with_logits(neg_logit, torch::zeros_like(neg_logit));
        } else if (sampled) {
          torch::Tensor neg = torch::empty({options.negatives}, torch::kLong);
          int64_t* pn = neg.data_ptr<int64_t>();
          for (int k = 0; k < options.negatives; ++k) {
            if (cumulative.empty()) {
              pn[k] = uniform_item(rng);
            } else {
              const double x = unit(rng) * cumulative.back();
              pn[k] = 1 + (std::upper_bound(cumulative.begin(), cumulative.end(), x) -
                           cumulative.begin());
              pn[k] = std::min<int64_t>(pn[k], n);
            }
          }
          torch::Tensor pos_logit = (h * table.index_select(0, tgt)).sum(-1, true);  // [P,1]
          torch::Tensor neg_logit = h.mm(table.index_select(0, neg).t());          // [P,K]
          if (log_q.defined()) {
            pos_logit = pos_logit - log_q.index_select(0, tgt).unsqueeze(1);
            neg_logit = neg_logit - log_q.index_select(0, neg).unsqueeze(0);
          }
          neg_logit = neg_logit.masked_fill(tgt.unsqueeze(1).eq(neg.unsqueeze(0)), -1e9);
          torch::Tensor logits = torch::cat({pos_logit, neg_logit}, 1);
          loss = torch::nn::functional::cross_entropy(
              logits, torch::zeros({logits.size(0)}, torch::kLong));
        } else {
          // [P, N] logits in row chunks of <= kCeChunkElements: the same math,
          // but blocks small enough for malloc to reuse instead of mapping
          // fresh zeroed pages on every step (that cost more than the matmul).
          const int64_t p = h.size(0);
          const int64_t chunk = std::max<int64_t>(1, kCeChunkElements / n);
          torch::Tensor items_t = table.narrow(0, 1, n).t();
          torch::Tensor labels = tgt - 1;
          for (int64_t r = 0; r < p; r += chunk) {
            const int64_t len = std::min(chunk, p - r);
            torch::Tensor part = torch::nn::functional::cross_entropy(
                h.narrow(0, r, len).mm(items_t), labels.narrow(0, r, len),
                torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
            loss = loss.defined() ? loss + part : part;
          }
          loss = loss / static_cast<double>(std::max<int64_t>(p, 1));
        }
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        loss_sum += loss.item<double>();
        ++loss_count;
        bar.Add(1);
      }
      SasRecEpochLog log;
      log.epoch = epoch;
      log.loss = loss_sum / std::max<int64_t>(loss_count, 1);
      log.seconds = SecondsSince(epoch_start);
      bool improved = true;
      if (!valid_users.empty()) {
        const Impl::ValidResult v = impl->Validate(validation->histories, validation->targets,
                                       valid_users);
        log.valid_ndcg10 = v.ndcg10;
        log.valid_hr10 = v.hr10;
        improved = v.ndcg10 > rep.best_valid_ndcg10;
      }
      rep.epochs.push_back(log);
      if (improved) {
        rep.best_epoch = epoch;
        rep.best_valid_ndcg10 = log.valid_ndcg10;
        bad_epochs = 0;
        if (!valid_users.empty()) snapshot();
      } else {
        ++bad_epochs;
      }
      bar.SetStatus(log.valid_ndcg10 >= 0
                        ? fmt::format("epoch {} loss {:.4f} valid ndcg@10 {:.4f} (best {:.4f} @{})",
                                      epoch, log.loss, log.valid_ndcg10, rep.best_valid_ndcg10,
                                      rep.best_epoch)
                        : fmt::format("epoch {} loss {:.4f}", epoch, log.loss));
      if (options.patience > 0 && bad_epochs >= options.patience) {
        rep.stopped_early = epoch < options.epochs;
        break;
      }
      if (options.max_seconds > 0 && SecondsSince(start) >= options.max_seconds) {
        rep.stopped_early = epoch < options.epochs;
        break;
      }
    }
    bar.Finish();
    if (!best.empty()) {
      torch::NoGradGuard no_grad;
      auto state = NamedState(*net);
      for (size_t i = 0; i < state.size(); ++i) state[i].second.copy_(best[i]);
    }
    impl->best_epoch = rep.best_epoch;
    impl->Freeze();
    rep.seconds = SecondsSince(start);
    return std::unique_ptr<SasRecModel>(new SasRecModel(std::move(impl)));
  } catch (const std::exception& e) {
    return InternalError(fmt::format("sasrec: training failed: {}", e.what()));
  }
}

void SasRecModel::ScoreNext(std::span<const int32_t> history, std::span<float> scores) const {
  if (scores.size() != static_cast<size_t>(impl_->num_items)) return;
  try {
    c10::InferenceMode guard;
    std::vector<std::vector<int32_t>> one(1);
    one[0].assign(history.begin(), history.end());
    // Only the tail matters: avoid copying huge histories.
    if (history.size() > static_cast<size_t>(4 * impl_->options.max_len + 64)) {
      one[0].assign(history.end() - (4 * impl_->options.max_len + 64), history.end());
      // Out-of-range items in that tail could leave fewer than max_len valid ones;
      // fall back to the full history then.
      size_t valid = 0;
      for (int32_t x : one[0]) valid += (x >= 0 && x < impl_->num_items) ? 1 : 0;
      if (valid < static_cast<size_t>(impl_->options.max_len)) {
        one[0].assign(history.begin(), history.end());
      }
    }
    torch::Tensor h = impl_->Encode(one, impl_->table);  // [1, H]
    torch::Tensor out = torch::from_blob(scores.data(), {impl_->num_items}, torch::kFloat);
    torch::mv_out(out, impl_->items, h[0]);
  } catch (const std::exception&) {
    std::fill(scores.begin(), scores.end(), -std::numeric_limits<float>::infinity());
  }
}

void SasRecModel::ScoreNextBatch(std::span<const std::vector<int32_t>> histories,
                                 std::span<float> scores) const {
  const size_t n = static_cast<size_t>(impl_->num_items);
  if (scores.size() != histories.size() * n || histories.empty()) return;
  try {
    c10::InferenceMode guard;
    torch::Tensor h = impl_->Encode(histories, impl_->table);  // [B, H]
    torch::Tensor out = torch::from_blob(
        scores.data(), {static_cast<int64_t>(histories.size()), impl_->num_items}, torch::kFloat);
    torch::mm_out(out, h, impl_->items.t());
  } catch (const std::exception&) {
    std::fill(scores.begin(), scores.end(), -std::numeric_limits<float>::infinity());
  }
}

Status SasRecModel::Save(const std::filesystem::path& dir) const {
  try {
    std::vector<torch::Tensor> keep;  // contiguous float copies alive during the write
    std::vector<lm::TensorToWrite> tensors;
    for (auto& [name, t] : NamedState(*impl_->net)) {
      torch::Tensor c = t.detach().to(torch::kFloat).contiguous();
      keep.push_back(c);
      lm::TensorToWrite w;
      w.name = name;
      w.dtype = lm::DType::kF32;
      w.shape.assign(c.sizes().begin(), c.sizes().end());
      w.bytes = std::span<const uint8_t>(static_cast<const uint8_t*>(c.data_ptr()),
                                         static_cast<size_t>(c.numel()) * sizeof(float));
      tensors.push_back(std::move(w));
    }
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    RETURN_IF_ERROR(lm::WriteSafetensors(dir / "model.safetensors", tensors));
    json manifest = {{"kind", kKind},
                     {"format_version", kFormatVersion},
                     {"num_items", impl_->num_items},
                     {"text_dim", impl_->text_dim},
                     {"best_epoch", impl_->best_epoch},
                     {"options", SasRecOptionsToJson(impl_->options)}};
    return WriteFileAtomically(dir / "manifest.json", manifest.dump(2) + "\n");
  } catch (const std::exception& e) {
    return InternalError(fmt::format("sasrec: saving to {} failed: {}", dir.string(), e.what()));
  }
}

StatusOr<std::unique_ptr<SasRecModel>> SasRecModel::Load(const std::filesystem::path& dir) {
  const std::filesystem::path manifest_path = dir / "manifest.json";
  auto text = ReadFileToString(manifest_path);
  if (!text.ok()) return text.status().WithContext("sasrec manifest");
  json manifest = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!manifest.is_object()) {
    return DataLossError(fmt::format("sasrec: {} is not a JSON object", manifest_path.string()));
  }
  if (manifest.value("kind", std::string()) != kKind) {
    return InvalidArgumentError(fmt::format("sasrec: {} has kind '{}', expected '{}'",
                                            manifest_path.string(),
                                            manifest.value("kind", std::string()), kKind));
  }
  if (!manifest.contains("format_version") || !manifest["format_version"].is_number_integer() ||
      manifest["format_version"].get<int>() != kFormatVersion) {
    return InvalidArgumentError(fmt::format("sasrec: {} has an unsupported format_version "
                                            "(this build reads {})",
                                            manifest_path.string(), kFormatVersion));
  }
  auto get_count = [&](const char* key) -> StatusOr<int32_t> {
    if (!manifest.contains(key) || !manifest[key].is_number_integer() ||
        manifest[key].get<int64_t>() < 0 || manifest[key].get<int64_t>() > (1 << 30)) {
      return DataLossError(
          fmt::format("sasrec: {}: '{}' missing or invalid", manifest_path.string(), key));
    }
    return static_cast<int32_t>(manifest[key].get<int64_t>());
  };
  ASSIGN_OR_RETURN(int32_t num_items, get_count("num_items"));
  ASSIGN_OR_RETURN(int32_t text_dim, get_count("text_dim"));
  if (num_items < 1) return DataLossError(fmt::format("sasrec: {}: num_items is 0", manifest_path.string()));
  ASSIGN_OR_RETURN(SasRecOptions options,
                   SasRecOptionsFromJson(manifest.value("options", json::object()), {},
                                         "sasrec manifest"));
  ASSIGN_OR_RETURN(auto file, lm::SafetensorsFile::Open(dir / "model.safetensors"));
  try {
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    impl->num_items = num_items;
    impl->text_dim = text_dim;
    impl->best_epoch = manifest.value("best_epoch", 0);
    impl->net = sasrec::SasRecNet(ConfigOf(options, num_items, text_dim));
    torch::NoGradGuard no_grad;
    for (auto& [name, t] : NamedState(*impl->net)) {
      const lm::TensorView* view = file->Find(name);
      if (view == nullptr) {
        return DataLossError(fmt::format("sasrec: {} lacks tensor '{}'",
                                         file->path().string(), name));
      }
      if (view->shape != std::vector<int64_t>(t.sizes().begin(), t.sizes().end())) {
        return DataLossError(fmt::format("sasrec: tensor '{}' of {} has the wrong shape", name,
                                         file->path().string()));
      }
      ASSIGN_OR_RETURN(std::vector<float> values, lm::ToFloat32(*view));
      t.copy_(torch::from_blob(values.data(), t.sizes(), torch::kFloat));
    }
    impl->Freeze();
    return std::unique_ptr<SasRecModel>(new SasRecModel(std::move(impl)));
  } catch (const std::exception& e) {
    return InternalError(fmt::format("sasrec: loading {} failed: {}", dir.string(), e.what()));
  }
}

}  // namespace souk::recommend
