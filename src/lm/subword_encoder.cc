#include "lm/subword_encoder.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/hash.h"
#include "common/thread_pool.h"

namespace souk::lm {

static_assert(std::endian::native == std::endian::little,
              "subword encoder files are little-endian; add byte swapping for this host");

namespace {

constexpr char kVocabMagic[8] = {'S', 'O', 'U', 'K', 'S', 'W', 'V', '1'};
constexpr char kWeightsMagic[8] = {'S', 'O', 'U', 'K', 'S', 'W', 'W', '1'};
constexpr char kVocabFile[] = "vocab.bin";
constexpr char kWeightsFile[] = "weights.bin";
constexpr size_t kNegativeTableSize = 2'000'000;
constexpr uint64_t kProgressBatch = 10'000;
constexpr int kPowerIterations = 100;
// Bounds n-gram table allocations (2^31 floats = 8 GiB), also for corrupt headers.
constexpr uint64_t kMaxBucketFloats = uint64_t{1} << 31;

// splitmix64: small, fast, and the same on every platform (std distributions are not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform in [0, n).
  uint64_t Below(uint64_t n) { return Next() % n; }

 private:
  uint64_t state_;
};

float Dot(const float* a, const float* b, int n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) acc[k] += a[i + k] * b[i + k];
  }
  float sum = 0;
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum + ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

void Axpy(float alpha, const float* x, float* y, int n) {
  for (int i = 0; i < n; ++i) y[i] += alpha * x[i];
}

// Scales v to unit length; returns its former norm (0 leaves v unchanged).
float Normalize(float* v, int n) {
  const float norm = std::sqrt(Dot(v, v, n));
  if (norm > 0) {
    const float inv = 1.0f / norm;
    for (int i = 0; i < n; ++i) v[i] *= inv;
  }
  return norm;
}

// Logistic function through a table on [-8, 8] (saturates outside).
class Sigmoid {
 public:
  Sigmoid() {
    for (int i = 0; i <= kSize; ++i) {
      const double x = (static_cast<double>(i) / kSize * 2 - 1) * kMax;
      table_[i] = static_cast<float>(1.0 / (1.0 + std::exp(-x)));
    }
  }
  float operator()(float x) const {
    if (x <= -kMax) return 0.0f;
    if (x >= kMax) return 1.0f;
    return table_[static_cast<int>((x + kMax) * (kSize / kMax / 2))];
  }

 private:
  static constexpr int kSize = 1024;
  static constexpr float kMax = 8.0f;
  float table_[kSize + 1];
};

// Calls fn(bytes) for each character n-gram of "<word>" (n = minn..maxn in
// UTF-8 characters), ordered by n then position.
template <typename Fn>
void ForEachNgram(std::string_view word, int minn, int maxn, Fn&& fn) {
  if (maxn <= 0 || word.empty()) return;
  std::string padded;
  padded.reserve(word.size() + 2);
  padded.push_back('<');
  padded.append(word);
  padded.push_back('>');
  // Byte offset of each character start, plus the end.
  std::vector<uint32_t> starts;
  starts.reserve(padded.size() + 1);
  for (size_t i = 0; i < padded.size(); ++i) {
    if ((static_cast<unsigned char>(padded[i]) & 0xC0) != 0x80)
      starts.push_back(static_cast<uint32_t>(i));
  }
  const int chars = static_cast<int>(starts.size());
  starts.push_back(static_cast<uint32_t>(padded.size()));
  for (int n = std::max(minn, 1); n <= maxn; ++n) {
    for (int i = 0; i + n <= chars; ++i) {
      if (n == 1 && (i == 0 || i == chars - 1)) continue;  // lone "<" or ">"
      fn(std::string_view(padded).substr(starts[i], starts[i + n] - starts[i]));
    }
  }
}


std::string Hex64(uint64_t v) { return fmt::format("{:016x}", v); }

// Reads exact byte counts from a file while hashing them; a short read is
// reported as DataLoss naming the file.
class HashingReader {
 public:
  HashingReader(std::filesystem::path path, uint64_t hash) : path_(std::move(path)), hash_(hash) {}

  Status Open() {
    std::error_code ec;
    size_ = std::filesystem::file_size(path_, ec);
    if (ec) return NotFoundError(fmt::format("cannot open {}: {}", path_.string(), ec.message()));
    in_.open(path_, std::ios::binary);
    if (!in_) return NotFoundError(fmt::format("cannot open {}", path_.string()));
    return OkStatus();
  }
  Status Read(void* out, size_t n, std::string_view what) {
    if (n > Remaining()) return Truncated(what);
    in_.read(static_cast<char*>(out), static_cast<std::streamsize>(n));
    if (static_cast<size_t>(in_.gcount()) != n) return Truncated(what);
    hash_ = Fnv1a64(hash_, out, n);
    offset_ += n;
    return OkStatus();
  }
  template <typename T>
  Status ReadPod(T* out, std::string_view what) {
    return Read(out, sizeof(T), what);
  }
  uint64_t Remaining() const { return size_ - offset_; }
  uint64_t hash() const { return hash_; }
  const std::filesystem::path& path() const { return path_; }
  Status Corrupt(std::string_view why) const {
    return DataLossError(fmt::format("{}: corrupt at byte {}: {}", path_.string(), offset_, why));
  }

 private:
  Status Truncated(std::string_view what) const {
    return DataLossError(
        fmt::format("{}: truncated at byte {} while reading {}", path_.string(), offset_, what));
  }
  std::filesystem::path path_;
  std::ifstream in_;
  uint64_t size_ = 0;
  uint64_t offset_ = 0;
  uint64_t hash_;
};

Status ValidateOptions(const SubwordOptions& o) {
  auto bad = [](std::string_view field, std::string_view rule) {
    return InvalidArgumentError(fmt::format("subword encoder option {} must be {}", field, rule));
  };
  if (o.dim < 1 || o.dim > 4096) return bad("dim", "in 1..4096");
  if (o.min_count < 1) return bad("min_count", ">= 1");
  if (o.maxn < 0 || o.maxn > 32) return bad("maxn", "in 0..32");
  if (o.maxn > 0 && (o.minn < 1 || o.minn > o.maxn)) return bad("minn", "in 1..maxn");
  if (o.maxn > 0 && (o.buckets < 1 || o.buckets > (1u << 26)))
    return bad("buckets", "in 1..67108864");
  if (o.window < 1 || o.window > 100) return bad("window", "in 1..100");
  if (o.negatives < 1 || o.negatives > 100) return bad("negatives", "in 1..100");
  if (!(o.sample >= 0 && o.sample < 1)) return bad("sample", "in [0, 1)");
  if (o.epochs < 1 || o.epochs > 10000) return bad("epochs", "in 1..10000");
  if (!(o.learning_rate > 0 && o.learning_rate <= 10)) return bad("learning_rate", "in (0, 10]");
  if (!(o.sif_a > 0 && std::isfinite(o.sif_a))) return bad("sif_a", "> 0");
  if (o.threads < 1 || o.threads > 256) return bad("threads", "in 1..256");
  if (static_cast<uint64_t>(o.maxn > 0 ? o.buckets : 0) * o.dim > kMaxBucketFloats) {
    return bad("buckets * dim", fmt::format("at most {} floats", kMaxBucketFloats));
  }
  return OkStatus();
}

}  // namespace

// Writes serialized bytes to an optional file while hashing them.
class SubwordEncoder::WeightSink {
 public:
  explicit WeightSink(std::ofstream* out = nullptr) : out_(out) {}
  void Write(const void* data, size_t n) {
    hash_ = Fnv1a64(hash_, data, n);
    if (out_ != nullptr)
      out_->write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  }
  template <typename T>
  void WritePod(const T& v) {
    Write(&v, sizeof(T));
  }
  void set_out(std::ofstream* out) { out_ = out; }
  uint64_t hash() const { return hash_; }

 private:
  std::ofstream* out_;
  uint64_t hash_ = kFnv1a64Offset;
};

// ---------------------------------------------------------------- n-grams

uint32_t SubwordEncoder::HashNgram(std::string_view bytes) {
  uint32_t h = 2166136261u;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

std::vector<std::string> SubwordEncoder::CharNgrams(std::string_view word, int minn, int maxn) {
  std::vector<std::string> out;
  ForEachNgram(word, minn, maxn, [&](std::string_view g) { out.emplace_back(g); });
  return out;
}

void SubwordEncoder::TermRows(std::string_view term, std::vector<uint32_t>* rows) const {
  rows->clear();
  const int64_t id = WordId(term);
  if (id >= 0) {
    rows->assign(subword_rows_.begin() + subword_offsets_[id],
                 subword_rows_.begin() + subword_offsets_[id + 1]);
    return;
  }
  const uint32_t base = static_cast<uint32_t>(words_.size());
  ForEachNgram(term, minn_, maxn_,
               [&](std::string_view g) { rows->push_back(base + HashNgram(g) % buckets_); });
}

void SubwordEncoder::BuildSubwordRows() {
  subword_offsets_.assign(1, 0);
  subword_rows_.clear();
  const uint32_t base = static_cast<uint32_t>(words_.size());
  for (uint32_t w = 0; w < words_.size(); ++w) {
    subword_rows_.push_back(w);
    ForEachNgram(words_[w], minn_, maxn_, [&](std::string_view g) {
      subword_rows_.push_back(base + HashNgram(g) % buckets_);
    });
    subword_offsets_.push_back(static_cast<uint32_t>(subword_rows_.size()));
  }
}

int64_t SubwordEncoder::WordId(std::string_view term) const {
  auto it = word_ids_.find(term);
  return it == word_ids_.end() ? -1 : static_cast<int64_t>(it->second);
}

float SubwordEncoder::SifWeight(int64_t word) const {
  if (word < 0 || total_tokens_ == 0) return 1.0f;
  const double p = static_cast<double>(counts_[word]) / static_cast<double>(total_tokens_);
  return static_cast<float>(sif_a_ / (sif_a_ + p));
}

bool SubwordEncoder::MeanOfRows(std::span<const uint32_t> rows, float* out) const {
  std::fill(out, out + dim_, 0.0f);
  if (rows.empty()) return false;
  for (uint32_t r : rows) Axpy(1.0f, &input_[static_cast<size_t>(r) * dim_], out, dim_);
  const float inv = 1.0f / static_cast<float>(rows.size());
  bool nonzero = false;
  for (int i = 0; i < dim_; ++i) {
    out[i] *= inv;
    nonzero |= out[i] != 0.0f;
  }
  return nonzero;
}

// ---------------------------------------------------------------- embedding

void SubwordEncoder::RebuildCaches() {
  const size_t n = words_.size();
  word_vectors_.assign(n * dim_, 0.0f);
  sif_weights_.resize(n);
  for (size_t w = 0; w < n; ++w) {
    std::span<const uint32_t> rows(subword_rows_.data() + subword_offsets_[w],
                                   subword_offsets_[w + 1] - subword_offsets_[w]);
    float* v = &word_vectors_[w * dim_];
    if (MeanOfRows(rows, v)) Normalize(v, dim_);
    sif_weights_[w] = SifWeight(static_cast<int64_t>(w));
  }
}

bool SubwordEncoder::WeightedSum(const std::vector<std::string>& terms, float* out,
                                 std::vector<uint32_t>* rows_scratch, float* scratch) const {
  std::fill(out, out + dim_, 0.0f);
  int used = 0;
  for (const std::string& term : terms) {
    const int64_t id = WordId(term);
    const float* v;
    float weight;
    if (id >= 0) {
      v = &word_vectors_[static_cast<size_t>(id) * dim_];
      weight = sif_weights_[id];
      if (v[0] == 0.0f && Dot(v, v, dim_) == 0.0f) continue;
    } else {
      TermRows(term, rows_scratch);
      if (!MeanOfRows(*rows_scratch, scratch)) continue;
      Normalize(scratch, dim_);
      v = scratch;
      weight = 1.0f;  // p(w) = 0 for words the corpus never had
    }
    Axpy(weight, v, out, dim_);
    ++used;
  }
  if (used == 0) return false;
  const float inv = 1.0f / static_cast<float>(used);
  for (int i = 0; i < dim_; ++i) out[i] *= inv;
  return true;
}

Status SubwordEncoder::Encode(std::span<const std::string> texts, TextKind /*kind*/,
                              float* out) const {
  if (texts.empty()) return OkStatus();
  if (out == nullptr) return InvalidArgumentError("SubwordEncoder::Encode: null output buffer");
  std::vector<uint32_t> rows;
  std::vector<float> scratch(dim_);
  for (size_t i = 0; i < texts.size(); ++i) {
    float* row = out + i * dim_;
    const std::vector<std::string> terms = analyzer_->Terms(texts[i]);
    if (!WeightedSum(terms, row, &rows, scratch.data())) continue;  // zero row
    Axpy(-Dot(row, pc_.data(), dim_), pc_.data(), row, dim_);
    if (Normalize(row, dim_) < 1e-20f) std::fill(row, row + dim_, 0.0f);
  }
  return OkStatus();
}

std::vector<float> SubwordEncoder::WordVector(std::string_view term) const {
  std::vector<float> v(dim_, 0.0f);
  const int64_t id = WordId(term);
  if (id >= 0) {
    std::copy_n(&word_vectors_[static_cast<size_t>(id) * dim_], dim_, v.begin());
    return v;
  }
  std::vector<uint32_t> rows;
  TermRows(term, &rows);
  if (MeanOfRows(rows, v.data())) Normalize(v.data(), dim_);
  return v;
}

void SubwordEncoder::ComputePrincipalComponent(const std::vector<std::vector<std::string>>& texts,
                                               size_t max_texts) {
  pc_.assign(dim_, 0.0f);
  if (texts.empty() || max_texts == 0) return;
  const size_t stride = std::max<size_t>(1, (texts.size() + max_texts - 1) / max_texts);
  // Uncentered second-moment matrix of the SIF sentence vectors (as in SIF).
  std::vector<double> cov(static_cast<size_t>(dim_) * dim_, 0.0);
  std::vector<float> x(dim_), scratch(dim_);
  std::vector<uint32_t> rows;
  size_t used = 0;
  for (size_t t = 0; t < texts.size(); t += stride) {
    if (!WeightedSum(texts[t], x.data(), &rows, scratch.data())) continue;
    ++used;
    for (int i = 0; i < dim_; ++i) {
      const double xi = x[i];
      double* c = &cov[static_cast<size_t>(i) * dim_];
      for (int j = 0; j < dim_; ++j) c[j] += xi * x[j];
    }
  }
  if (used < 2) return;
  // Power iteration from a fixed start: deterministic.
  std::vector<double> u(dim_, 1.0 / std::sqrt(static_cast<double>(dim_))), next(dim_);
  for (int it = 0; it < kPowerIterations; ++it) {
    double norm = 0;
    for (int i = 0; i < dim_; ++i) {
      double s = 0;
      const double* c = &cov[static_cast<size_t>(i) * dim_];
      for (int j = 0; j < dim_; ++j) s += c[j] * u[j];
      next[i] = s;
      norm += s * s;
    }
    norm = std::sqrt(norm);
    if (norm == 0) return;
    for (int i = 0; i < dim_; ++i) u[i] = next[i] / norm;
  }
  for (int i = 0; i < dim_; ++i) pc_[i] = static_cast<float>(u[i]);
}

// ---------------------------------------------------------------- SGNS training

class SubwordEncoder::Trainer {
 public:
  Trainer(SubwordEncoder& enc, const SubwordOptions& options,
          const std::vector<std::vector<uint32_t>>& sentences)
      : enc_(enc), options_(options), sentences_(sentences) {
    const size_t n = enc_.words_.size();
    uint64_t tokens = 0;
    for (const auto& s : sentences_) tokens += s.size();
    total_ = tokens * static_cast<uint64_t>(options_.epochs);
    // Keep probability of each word (fastText's formula).
    keep_.assign(n, 1.0f);
    if (options_.sample > 0 && tokens > 0) {
      for (size_t w = 0; w < n; ++w) {
        const double f = static_cast<double>(enc_.counts_[w]) / static_cast<double>(tokens);
        const double r = options_.sample / f;
        keep_[w] = static_cast<float>(std::sqrt(r) + r);
      }
    }
    // Unigram^0.75 table of negatives.
    double z = 0;
    for (size_t w = 0; w < n; ++w) z += std::pow(static_cast<double>(enc_.counts_[w]), 0.75);
    negatives_.reserve(kNegativeTableSize + n);
    for (size_t w = 0; w < n; ++w) {
      const double share = std::pow(static_cast<double>(enc_.counts_[w]), 0.75) / z;
      const size_t k = std::max<size_t>(1, static_cast<size_t>(share * kNegativeTableSize));
      negatives_.insert(negatives_.end(), k, static_cast<uint32_t>(w));
    }
    // Shuffled once, then read sequentially from a random start per thread
    // (random reads of a multi-MB table would be cache misses).
    Rng shuffle(options_.seed ^ 0x5851F42D4C957F2Dull);
    for (size_t i = negatives_.size(); i > 1; --i)
      std::swap(negatives_[i - 1], negatives_[shuffle.Below(i)]);
  }

  void Run(Progress* progress) {
    const int threads = options_.threads;
    if (threads == 1) {
      Work(0, progress);
      return;
    }
    std::vector<std::thread> workers;
    workers.reserve(threads);
    for (int t = 0; t < threads; ++t)
      workers.emplace_back([this, t, progress] { Work(t, progress); });
    for (auto& w : workers) w.join();
  }

 private:
  // Hogwild worker: its own slice of the sentences, every epoch.
  void Work(int thread_id, Progress* progress) {
    const int dim = enc_.dim_;
    Rng rng(options_.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(thread_id) + 1);
    const size_t begin = sentences_.size() * thread_id / options_.threads;
    const size_t end = sentences_.size() * (thread_id + 1) / options_.threads;
    std::vector<float> hidden(dim), grad(dim);
    std::vector<uint32_t> line;
    size_t negative_pos = rng.Below(negatives_.size());
    uint64_t local = 0;
    for (int epoch = 0; epoch < options_.epochs; ++epoch) {
      for (size_t s = begin; s < end; ++s) {
        line.clear();
        for (uint32_t w : sentences_[s]) {
          if (rng.Uniform() < keep_[w]) line.push_back(w);
        }
        local += sentences_[s].size();
        const double done = static_cast<double>(processed_.load(std::memory_order_relaxed) + local);
        const float lr =
            options_.learning_rate *
            static_cast<float>(std::max(0.0, 1.0 - done / static_cast<double>(total_)));
        const int len = static_cast<int>(line.size());
        for (int i = 0; i < len; ++i) {
          const int b = 1 + static_cast<int>(rng.Below(options_.window));
          const int first = std::max(0, i - b);
          const int last = std::min(len - 1, i + b);
          if (first == last) continue;
          const uint32_t w = line[i];
          std::span<const uint32_t> rows(enc_.subword_rows_.data() + enc_.subword_offsets_[w],
                                         enc_.subword_offsets_[w + 1] - enc_.subword_offsets_[w]);
          Update(rows, std::span<const uint32_t>(line.data() + first, last - first + 1), i - first,
                 lr, &negative_pos, hidden.data(), grad.data());
        }
        if (local >= kProgressBatch) Flush(&local, progress);
      }
    }
    Flush(&local, progress);
  }

  void Flush(uint64_t* local, Progress* progress) {
    processed_.fetch_add(*local, std::memory_order_relaxed);
    if (progress != nullptr) progress->Add(*local);
    *local = 0;
  }

  // Skip-gram steps of one center word: its subword rows predict each
  // context word against `negatives` sampled words. The hidden vector is
  // computed once and the rows' gradient applied once after all contexts
  // (the output rows are updated after every prediction, as in fastText).
  void Update(std::span<const uint32_t> rows, std::span<const uint32_t> window, int center,
              float lr, size_t* negative_pos, float* hidden, float* grad) {
    const int dim = enc_.dim_;
    float* input = enc_.input_.data();
    float* output = enc_.output_.data();
    std::fill(hidden, hidden + dim, 0.0f);
    for (uint32_t r : rows) Axpy(1.0f, input + static_cast<size_t>(r) * dim, hidden, dim);
    const float inv = 1.0f / static_cast<float>(rows.size());
    for (int i = 0; i < dim; ++i) hidden[i] *= inv;
    std::fill(grad, grad + dim, 0.0f);
    for (int c = 0; c < static_cast<int>(window.size()); ++c) {
      if (c == center) continue;
      const uint32_t target = window[c];
      for (int k = 0; k <= options_.negatives; ++k) {
        uint32_t t = target;
        if (k > 0) {
          do {
            t = negatives_[*negative_pos];
            if (++*negative_pos == negatives_.size()) *negative_pos = 0;
          } while (t == target && enc_.words_.size() > 1);
        }
        float* o = output + static_cast<size_t>(t) * dim;
        const float label = k == 0 ? 1.0f : 0.0f;
        const float alpha = lr * (label - sigmoid_(Dot(hidden, o, dim)));
        Axpy(alpha, o, grad, dim);
        Axpy(alpha, hidden, o, dim);
      }
    }
    for (uint32_t r : rows) Axpy(1.0f, grad, input + static_cast<size_t>(r) * dim, dim);
  }

  SubwordEncoder& enc_;
  const SubwordOptions& options_;
  const std::vector<std::vector<uint32_t>>& sentences_;
  uint64_t total_ = 0;
  std::vector<float> keep_;
  std::vector<uint32_t> negatives_;
  Sigmoid sigmoid_;
  std::atomic<uint64_t> processed_{0};
};

StatusOr<std::unique_ptr<SubwordEncoder>> SubwordEncoder::Train(
    const std::vector<std::string>& corpus, const SubwordOptions& options,
    ProgressOptions* progress) {
  RETURN_IF_ERROR(ValidateOptions(options));
  text::Analyzer::Options analyzer_options;
  analyzer_options.stem_language = options.stem_language;
  ASSIGN_OR_RETURN(std::unique_ptr<text::Analyzer> analyzer,
                   text::Analyzer::Create(analyzer_options));

  // 1. Terms of every text.
  std::vector<std::vector<std::string>> texts(corpus.size());
  auto tokenize = [&](size_t i) { texts[i] = analyzer->Terms(corpus[i]); };
  if (options.threads > 1 && corpus.size() > 1000) {
    ThreadPool pool(static_cast<size_t>(options.threads - 1));
    pool.ParallelFor(0, corpus.size(), tokenize);
  } else {
    for (size_t i = 0; i < corpus.size(); ++i) tokenize(i);
  }

  // 2. Vocabulary by decreasing count (ties by bytes: deterministic).
  std::unordered_map<std::string, uint64_t, StringHash, std::equal_to<>> counts;
  uint64_t total_tokens = 0;
  for (const auto& t : texts) {
    for (const auto& term : t) ++counts[term];
    total_tokens += t.size();
  }
  if (total_tokens == 0) {
    return InvalidArgumentError(
        fmt::format("subword encoder: the training corpus ({} texts) has no words", corpus.size()));
  }
  std::vector<std::pair<std::string, uint64_t>> vocab;
  for (auto& [term, count] : counts) {
    if (count >= static_cast<uint64_t>(options.min_count)) vocab.emplace_back(term, count);
  }
  if (vocab.empty()) {
    return InvalidArgumentError(fmt::format(
        "subword encoder: no word occurs at least min_count={} times", options.min_count));
  }
  std::sort(vocab.begin(), vocab.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (vocab.size() + (options.maxn > 0 ? options.buckets : 0) >= (uint64_t{1} << 32)) {
    return InvalidArgumentError("subword encoder: vocabulary + buckets exceed 2^32 rows");
  }

  std::unique_ptr<SubwordEncoder> enc(new SubwordEncoder());
  enc->dim_ = options.dim;
  enc->minn_ = options.maxn > 0 ? options.minn : 0;
  enc->maxn_ = options.maxn;
  enc->buckets_ = options.maxn > 0 ? options.buckets : 0;
  enc->sif_a_ = options.sif_a;
  enc->stem_language_ = options.stem_language;
  enc->analyzer_ = std::move(analyzer);
  enc->total_tokens_ = total_tokens;
  enc->words_.reserve(vocab.size());
  enc->counts_.reserve(vocab.size());
  for (auto& [term, count] : vocab) {
    enc->word_ids_.emplace(term, static_cast<uint32_t>(enc->words_.size()));
    enc->words_.push_back(std::move(term));
    enc->counts_.push_back(count);
  }
  enc->BuildSubwordRows();

  // 3. Parameters: word rows uniform(-1/dim, 1/dim); n-gram rows and output rows zero
  // (never-trained n-grams then contribute nothing, and are not saved).
  const size_t n = enc->words_.size();
  const int dim = enc->dim_;
  enc->input_.assign((n + enc->buckets_) * dim, 0.0f);
  enc->output_.assign(n * dim, 0.0f);
  Rng init(options.seed);
  const float scale = 1.0f / static_cast<float>(dim);
  for (size_t i = 0; i < n * dim; ++i) {
    enc->input_[i] = static_cast<float>((init.Uniform() * 2 - 1) * scale);
  }

  // 4. Sentences as word ids (words below min_count are dropped, as in fastText).
  std::vector<std::vector<uint32_t>> sentences;
  sentences.reserve(texts.size());
  uint64_t train_tokens = 0;
  for (const auto& t : texts) {
    std::vector<uint32_t> ids;
    ids.reserve(t.size());
    for (const auto& term : t) {
      const int64_t id = enc->WordId(term);
      if (id >= 0) ids.push_back(static_cast<uint32_t>(id));
    }
    train_tokens += ids.size();
    if (ids.size() > 1) sentences.push_back(std::move(ids));
  }

  // 5. Skip-gram with negative sampling.
  {
    std::unique_ptr<Progress> bar;
    if (progress != nullptr) {
      ProgressOptions po = *progress;
      if (po.unit.empty()) po.unit = "words";
      bar = std::make_unique<Progress>("train subword encoder", train_tokens * options.epochs, po);
    }
    Trainer trainer(*enc, options, sentences);
    trainer.Run(bar.get());
    if (bar) bar->Finish();
  }

  // 6. Caches, principal component of the corpus, version.
  enc->RebuildCaches();
  enc->ComputePrincipalComponent(texts, options.max_pc_texts);
  enc->UpdateVersion();
  return enc;
}

// ---------------------------------------------------------------- supervised pairs

namespace {

// One text prepared for pair training: its words' input rows and SIF weights.
struct PairText {
  std::vector<std::vector<uint32_t>> rows;
  std::vector<float> weights;
};

// Forward pass of Encode, keeping what the backward pass needs.
struct PairForward {
  const PairText* text = nullptr;
  std::vector<float> unit_words;  // words x dim: unit word vectors
  std::vector<float> word_norms;  // |mean of rows| (0 = word skipped)
  float inv_used = 0;             // 1 / number of used words
  std::vector<float> unit;        // the embedding (unit)
  float norm = 0;                 // |y| before normalization (0 = no embedding)
};

}  // namespace

Status SubwordEncoder::TrainPairs(const std::vector<std::pair<std::string, std::string>>& pairs,
                                  const PairTrainingOptions& options, ProgressOptions* progress) {
  if (options.epochs < 1) return InvalidArgumentError("pair training: epochs must be >= 1");
  if (!(options.learning_rate > 0))
    return InvalidArgumentError("pair training: learning_rate must be > 0");
  if (options.negatives < 1) return InvalidArgumentError("pair training: negatives must be >= 1");
  if (!(options.temperature > 0))
    return InvalidArgumentError("pair training: temperature must be > 0");

  auto prepare = [&](const std::string& s) {
    PairText t;
    for (const std::string& term : analyzer_->Terms(s)) {
      std::vector<uint32_t> rows;
      TermRows(term, &rows);
      if (rows.empty()) continue;
      t.rows.push_back(std::move(rows));
      t.weights.push_back(SifWeight(WordId(term)));
    }
    return t;
  };
  std::vector<PairText> queries;
  std::vector<PairText> docs;
  std::unordered_map<std::string, uint32_t> doc_ids;
  std::vector<uint32_t> pair_doc;
  queries.reserve(pairs.size());
  for (const auto& [query, item] : pairs) {
    queries.push_back(prepare(query));
    auto [it, inserted] = doc_ids.emplace(item, static_cast<uint32_t>(docs.size()));
    if (inserted) docs.push_back(prepare(item));
    pair_doc.push_back(it->second);
  }
  if (docs.size() < 2) {
    return InvalidArgumentError(
        fmt::format("pair training needs at least 2 distinct item texts, got {} ({} pairs)",
                    docs.size(), pairs.size()));
  }

  const int dim = dim_;
  auto forward = [&](const PairText& t, PairForward* f) {
    f->text = &t;
    const size_t nw = t.rows.size();
    f->unit_words.assign(nw * dim, 0.0f);
    f->word_norms.assign(nw, 0.0f);
    f->unit.assign(dim, 0.0f);
    f->norm = 0;
    int used = 0;
    for (size_t w = 0; w < nw; ++w) {
      float* v = &f->unit_words[w * dim];
      if (!MeanOfRows(t.rows[w], v)) continue;
      f->word_norms[w] = Normalize(v, dim);
      ++used;
    }
    if (used == 0) return;
    f->inv_used = 1.0f / static_cast<float>(used);
    for (size_t w = 0; w < nw; ++w) {
      if (f->word_norms[w] > 0)
        Axpy(t.weights[w] * f->inv_used, &f->unit_words[w * dim], f->unit.data(), dim);
    }
    Axpy(-Dot(f->unit.data(), pc_.data(), dim), pc_.data(), f->unit.data(), dim);
    f->norm = Normalize(f->unit.data(), dim);
  };
  // Applies row -= lr * d(loss)/d(row), given g = d(loss)/d(unit embedding).
  std::vector<float> gy(dim), gm(dim);
  auto backward = [&](const PairForward& f, const float* g, float lr) {
    // Through the final normalization and the PC projection.
    const float gu = Dot(g, f.unit.data(), dim);
    for (int i = 0; i < dim; ++i) gy[i] = (g[i] - gu * f.unit[i]) / f.norm;
    Axpy(-Dot(gy.data(), pc_.data(), dim), pc_.data(), gy.data(), dim);
    for (size_t w = 0; w < f.word_norms.size(); ++w) {
      if (f.word_norms[w] == 0) continue;
      const float c = f.text->weights[w] * f.inv_used;
      const float* uw = &f.unit_words[w * dim];
      const float gw = Dot(gy.data(), uw, dim);
      // Through the word normalization and the mean over its rows.
      const auto& rows = f.text->rows[w];
      const float s = -lr * c / (f.word_norms[w] * static_cast<float>(rows.size()));
      for (int i = 0; i < dim; ++i) gm[i] = gy[i] - gw * uw[i];
      for (uint32_t r : rows) Axpy(s, gm.data(), &input_[static_cast<size_t>(r) * dim], dim);
    }
  };

  Rng rng(options.seed);
  std::vector<size_t> order(pairs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  const uint64_t total = static_cast<uint64_t>(options.epochs) * pairs.size();
  std::unique_ptr<Progress> bar;
  if (progress != nullptr) {
    ProgressOptions po = *progress;
    if (po.unit.empty()) po.unit = "pairs";
    bar = std::make_unique<Progress>("train subword encoder on pairs", total, po);
  }
  PairForward q;
  std::vector<PairForward> cands(options.negatives + 1);
  std::vector<float> logits, gq(dim), gd(dim);
  uint64_t step = 0;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.Below(i)]);
    for (size_t p : order) {
      const float lr =
          options.learning_rate *
          static_cast<float>(1.0 - static_cast<double>(step++) / static_cast<double>(total));
      if (bar) bar->Add(1);
      forward(queries[p], &q);
      if (q.norm == 0) continue;
      // Candidate 0 is the engaged item; the rest are other pairs' items.
      size_t nc = 0;
      forward(docs[pair_doc[p]], &cands[nc]);
      if (cands[nc].norm == 0) continue;
      ++nc;
      for (int k = 0; k < options.negatives; ++k) {
        uint32_t d = pair_doc[p];
        for (int tries = 0; tries < 8 && d == pair_doc[p]; ++tries)
          d = static_cast<uint32_t>(rng.Below(docs.size()));
        if (d == pair_doc[p]) continue;
        forward(docs[d], &cands[nc]);
        if (cands[nc].norm > 0) ++nc;
      }
      if (nc < 2) continue;
      // Softmax over cosines / temperature; d(loss)/d(cos_j) = (p_j - y_j) / T.
      logits.resize(nc);
      float mx = -1e30f;
      for (size_t j = 0; j < nc; ++j) {
        logits[j] = Dot(q.unit.data(), cands[j].unit.data(), dim) / options.temperature;
        mx = std::max(mx, logits[j]);
      }
      float z = 0;
      for (size_t j = 0; j < nc; ++j) z += (logits[j] = std::exp(logits[j] - mx));
      std::fill(gq.begin(), gq.end(), 0.0f);
      for (size_t j = 0; j < nc; ++j) {
        const float gs = (logits[j] / z - (j == 0 ? 1.0f : 0.0f)) / options.temperature;
        Axpy(gs, cands[j].unit.data(), gq.data(), dim);
      }
      backward(q, gq.data(), lr);
      for (size_t j = 0; j < nc; ++j) {
        const float gs = (logits[j] / z - (j == 0 ? 1.0f : 0.0f)) / options.temperature;
        for (int i = 0; i < dim; ++i) gd[i] = gs * q.unit[i];
        backward(cands[j], gd.data(), lr);
      }
    }
  }
  if (bar) bar->Finish();
  RebuildCaches();
  UpdateVersion();
  return OkStatus();
}

// ---------------------------------------------------------------- files

void SubwordEncoder::SerializeVocab(WeightSink& sink) const {
  sink.Write(kVocabMagic, sizeof(kVocabMagic));
  sink.WritePod<uint64_t>(words_.size());
  sink.WritePod<uint64_t>(total_tokens_);
  for (size_t w = 0; w < words_.size(); ++w) {
    sink.WritePod<uint32_t>(static_cast<uint32_t>(words_[w].size()));
    sink.Write(words_[w].data(), words_[w].size());
    sink.WritePod<uint64_t>(counts_[w]);
  }
}

void SubwordEncoder::SerializeWeights(WeightSink& sink) const {
  const size_t n = words_.size();
  sink.Write(kWeightsMagic, sizeof(kWeightsMagic));
  sink.WritePod<uint32_t>(static_cast<uint32_t>(dim_));
  sink.WritePod<uint32_t>(static_cast<uint32_t>(minn_));
  sink.WritePod<uint32_t>(static_cast<uint32_t>(maxn_));
  sink.WritePod<uint32_t>(buckets_);
  sink.WritePod<uint64_t>(n);
  sink.WritePod<float>(sif_a_);
  sink.WritePod<uint32_t>(static_cast<uint32_t>(stem_language_.size()));
  sink.Write(stem_language_.data(), stem_language_.size());
  sink.Write(input_.data(), n * dim_ * sizeof(float));
  sink.Write(output_.data(), n * dim_ * sizeof(float));
  sink.Write(pc_.data(), dim_ * sizeof(float));
  // Only the n-gram rows that training touched.
  auto nonzero = [&](uint32_t b) {
    const float* row = &input_[(n + b) * dim_];
    return std::any_of(row, row + dim_, [](float x) { return x != 0.0f; });
  };
  uint64_t count = 0;
  for (uint32_t b = 0; b < buckets_; ++b) count += nonzero(b);
  sink.WritePod<uint64_t>(count);
  for (uint32_t b = 0; b < buckets_; ++b) {
    if (!nonzero(b)) continue;
    sink.WritePod<uint32_t>(b);
    sink.Write(&input_[(n + b) * dim_], dim_ * sizeof(float));
  }
}

void SubwordEncoder::UpdateVersion() {
  WeightSink sink;
  SerializeVocab(sink);
  SerializeWeights(sink);
  version_ = Hex64(sink.hash());
}

Status SubwordEncoder::Save(const std::string& dir) const {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return UnavailableError(fmt::format("cannot create {}: {}", dir, ec.message()));
  WeightSink sink;
  // Each file is written under a temporary name and renamed when complete;
  // the manifest goes last, so a reader never sees a manifest without files.
  auto write_file = [&](const std::string& name, auto&& body) -> Status {
    const fs::path final_path = fs::path(dir) / name;
    const fs::path tmp = fs::path(dir) / (name + ".tmp");
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) return UnavailableError(fmt::format("cannot write {}", tmp.string()));
      body(out);
      out.flush();
      if (!out) return UnavailableError(fmt::format("cannot write {} (disk full?)", tmp.string()));
    }
    fs::rename(tmp, final_path, ec);
    if (ec)
      return UnavailableError(fmt::format("cannot rename {}: {}", tmp.string(), ec.message()));
    return OkStatus();
  };
  RETURN_IF_ERROR(write_file(kVocabFile, [&](std::ofstream& out) {
    sink.set_out(&out);
    SerializeVocab(sink);
    sink.set_out(nullptr);
  }));
  RETURN_IF_ERROR(write_file(kWeightsFile, [&](std::ofstream& out) {
    sink.set_out(&out);
    SerializeWeights(sink);
    sink.set_out(nullptr);
  }));
  nlohmann::json manifest = {
      {"kind", kName},
      {"format_version", kFormatVersion},
      {"version", Hex64(sink.hash())},
      {"hash", "fnv1a64(vocab_file + weights_file)"},
      {"dim", dim_},
      {"buckets", buckets_},
      {"minn", minn_},
      {"maxn", maxn_},
      {"words", words_.size()},
      {"sif_a", sif_a_},
      {"stem_language", stem_language_},
      {"vocab_file", kVocabFile},
      {"weights_file", kWeightsFile},
  };
  return write_file("manifest.json", [&](std::ofstream& out) { out << manifest.dump(2) << "\n"; });
}

StatusOr<std::unique_ptr<SubwordEncoder>> SubwordEncoder::Load(const std::string& dir) {
  ASSIGN_OR_RETURN(EncoderManifest manifest, ReadEncoderManifest(dir));
  return Load(dir, manifest);
}

StatusOr<std::unique_ptr<SubwordEncoder>> SubwordEncoder::Load(const std::string& dir,
                                                               const EncoderManifest& manifest) {
  namespace fs = std::filesystem;
  const std::string manifest_path = (fs::path(dir) / "manifest.json").string();
  if (manifest.kind != kName) {
    return InvalidArgumentError(
        fmt::format("{}: kind \"{}\" is not a subword encoder", manifest_path, manifest.kind));
  }
  if (manifest.format_version != kFormatVersion) {
    return FailedPreconditionError(
        fmt::format("{}: subword encoder format_version {} is not supported (this build reads {})",
                    manifest_path, manifest.format_version, kFormatVersion));
  }
  std::string vocab_file, weights_file, version;
  int64_t m_dim = 0, m_buckets = 0, m_minn = 0, m_maxn = 0;
  try {
    const nlohmann::json j = nlohmann::json::parse(manifest.json);
    vocab_file = j.at("vocab_file").get<std::string>();
    weights_file = j.at("weights_file").get<std::string>();
    version = j.at("version").get<std::string>();
    m_dim = j.at("dim").get<int64_t>();
    m_buckets = j.at("buckets").get<int64_t>();
    m_minn = j.at("minn").get<int64_t>();
    m_maxn = j.at("maxn").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    return DataLossError(fmt::format("{}: bad subword manifest: {}", manifest_path, e.what()));
  }
  for (const std::string& f : {vocab_file, weights_file}) {
    if (f.empty() || f.find('/') != std::string::npos || f.find('\\') != std::string::npos ||
        f == "." || f == "..") {
      return DataLossError(fmt::format(
          "{}: file name \"{}\" must be a plain name inside the folder", manifest_path, f));
    }
  }

  std::unique_ptr<SubwordEncoder> enc(new SubwordEncoder());
  // vocab.bin
  HashingReader vocab(fs::path(dir) / vocab_file, kFnv1a64Offset);
  RETURN_IF_ERROR(vocab.Open());
  char magic[8];
  RETURN_IF_ERROR(vocab.Read(magic, sizeof(magic), "the magic"));
  if (std::memcmp(magic, kVocabMagic, sizeof(magic)) != 0)
    return vocab.Corrupt("not a subword vocabulary file");
  uint64_t nwords = 0;
  RETURN_IF_ERROR(vocab.ReadPod(&nwords, "the word count"));
  RETURN_IF_ERROR(vocab.ReadPod(&enc->total_tokens_, "the token count"));
  if (nwords == 0 || nwords > vocab.Remaining() / 12)
    return vocab.Corrupt(fmt::format("impossible word count {}", nwords));
  enc->words_.reserve(nwords);
  enc->counts_.reserve(nwords);
  for (uint64_t w = 0; w < nwords; ++w) {
    uint32_t len = 0;
    RETURN_IF_ERROR(vocab.ReadPod(&len, "a word length"));
    if (len == 0 || len > vocab.Remaining())
      return vocab.Corrupt(fmt::format("bad length {} of word {}", len, w));
    std::string word(len, '\0');
    RETURN_IF_ERROR(vocab.Read(word.data(), len, "a word"));
    uint64_t count = 0;
    RETURN_IF_ERROR(vocab.ReadPod(&count, "a word count"));
    if (!enc->word_ids_.emplace(word, static_cast<uint32_t>(w)).second) {
      return vocab.Corrupt(fmt::format("duplicate word \"{}\"", word));
    }
    enc->words_.push_back(std::move(word));
    enc->counts_.push_back(count);
  }
  if (vocab.Remaining() != 0) return vocab.Corrupt("trailing bytes");

  // weights.bin
  HashingReader weights(fs::path(dir) / weights_file, vocab.hash());
  RETURN_IF_ERROR(weights.Open());
  RETURN_IF_ERROR(weights.Read(magic, sizeof(magic), "the magic"));
  if (std::memcmp(magic, kWeightsMagic, sizeof(magic)) != 0)
    return weights.Corrupt("not a subword weights file");
  uint32_t dim = 0, minn = 0, maxn = 0, buckets = 0, stem_len = 0;
  uint64_t n = 0;
  RETURN_IF_ERROR(weights.ReadPod(&dim, "dim"));
  RETURN_IF_ERROR(weights.ReadPod(&minn, "minn"));
  RETURN_IF_ERROR(weights.ReadPod(&maxn, "maxn"));
  RETURN_IF_ERROR(weights.ReadPod(&buckets, "buckets"));
  RETURN_IF_ERROR(weights.ReadPod(&n, "the word count"));
  RETURN_IF_ERROR(weights.ReadPod(&enc->sif_a_, "sif_a"));
  RETURN_IF_ERROR(weights.ReadPod(&stem_len, "the stemmer name length"));
  if (dim < 1 || dim > 4096 || maxn > 32 || minn > maxn || buckets > (1u << 26) ||
      (maxn > 0 && buckets == 0) || uint64_t{buckets} * dim > kMaxBucketFloats) {
    return weights.Corrupt(
        fmt::format("bad header (dim {}, minn {}, maxn {}, buckets {})", dim, minn, maxn, buckets));
  }
  if (dim != m_dim || buckets != m_buckets || minn != m_minn || maxn != m_maxn) {
    return weights.Corrupt(
        fmt::format("header (dim {}, buckets {}, minn {}, maxn {}) disagrees with {} (dim {}, "
                    "buckets {}, minn {}, maxn {})",
                    dim, buckets, minn, maxn, manifest_path, m_dim, m_buckets, m_minn, m_maxn));
  }
  if (n != nwords)
    return weights.Corrupt(fmt::format("{} words, but the vocabulary has {}", n, nwords));
  if (!(enc->sif_a_ > 0) || stem_len > 64) return weights.Corrupt("bad sif_a or stemmer name");
  enc->stem_language_.resize(stem_len);
  RETURN_IF_ERROR(weights.Read(enc->stem_language_.data(), stem_len, "the stemmer name"));
  const uint64_t dense_bytes = (2 * n + 1) * dim * sizeof(float);
  if (dense_bytes > weights.Remaining()) return weights.Corrupt("shorter than its dense matrices");
  enc->dim_ = static_cast<int>(dim);
  enc->minn_ = static_cast<int>(minn);
  enc->maxn_ = static_cast<int>(maxn);
  enc->buckets_ = buckets;
  enc->input_.assign((n + buckets) * dim, 0.0f);
  enc->output_.resize(n * dim);
  enc->pc_.resize(dim);
  RETURN_IF_ERROR(weights.Read(enc->input_.data(), n * dim * sizeof(float), "the word rows"));
  RETURN_IF_ERROR(weights.Read(enc->output_.data(), n * dim * sizeof(float), "the output rows"));
  RETURN_IF_ERROR(weights.Read(enc->pc_.data(), dim * sizeof(float), "the principal component"));
  uint64_t touched = 0;
  RETURN_IF_ERROR(weights.ReadPod(&touched, "the n-gram row count"));
  if (touched > buckets || touched * (4 + dim * sizeof(float)) != weights.Remaining()) {
    return weights.Corrupt(fmt::format("{} n-gram rows do not match the {} remaining bytes",
                                       touched, weights.Remaining()));
  }
  int64_t previous = -1;
  for (uint64_t i = 0; i < touched; ++i) {
    uint32_t b = 0;
    RETURN_IF_ERROR(weights.ReadPod(&b, "an n-gram row index"));
    if (b >= buckets || static_cast<int64_t>(b) <= previous)
      return weights.Corrupt(fmt::format("bad n-gram row index {}", b));
    previous = b;
    RETURN_IF_ERROR(
        weights.Read(&enc->input_[(n + b) * dim], dim * sizeof(float), "an n-gram row"));
  }
  const std::string computed = Hex64(weights.hash());
  if (computed != version) {
    return DataLossError(
        fmt::format("{}: content hash {} does not match the manifest's version {} (corrupt files)",
                    dir, computed, version));
  }

  text::Analyzer::Options analyzer_options;
  analyzer_options.stem_language = enc->stem_language_;
  ASSIGN_OR_RETURN(enc->analyzer_, text::Analyzer::Create(analyzer_options));
  enc->BuildSubwordRows();
  enc->RebuildCaches();
  enc->version_ = computed;
  return enc;
}

}  // namespace souk::lm
