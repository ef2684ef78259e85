// Encoder throughput benchmark: Souk's libtorch BERT encoder next to the same
// architecture and the same weights run by Debian's python3-torch in eager mode.
//
// Model: MiniLM-L6 (all-MiniLM-L6-v2's config.json: vocab 30522, hidden 384,
// 6 layers, 12 heads, intermediate 1536, gelu) with random weights, built once
// into --model-dir (default: a folder in the temporary directory, reused while
// its bench_checkpoint.json matches) together with all-MiniLM-L6-v2's
// tokenizer and pooling files (mean pooling + L2 normalization).
//
// Inputs: --sentences synthetic product sentences that tokenize to exactly
// --tokens ids including [CLS]/[SEP] (checked with the model's tokenizer).
//
// Systems, all with --threads intra-op threads and --batch sentences per
// forward pass, a warm-up batch, then the median of --passes timed passes:
//   engine_fp32 / engine_int8   BertModel::forward + PoolHidden on the
//                               pre-tokenized ids (the same batching as
//                               BertEncoder: length-sorted, padded, masked);
//                               int8 = dynamic quantization of every linear
//   engine_*_with_tokenization  BertEncoder::EncodeRaw on the texts (what
//                               users get: tokenization included)
//   peer_fp32_eager             bench/lm/torch_peer.py under /usr/bin/python3
//                               on the same ids file (tokenization outside
//                               the timing, as for engine_fp32); the peer
//                               checks its vectors against the engine's
//                               (cosine >= 0.9999 on the first 64 sentences)
// plus batch-1 latency (ms per sentence, first --latency-sentences sentences)
// and a bf16 matmul point (fp32 vs bf16 GFLOP/s on one feed-forward GEMM).
//
//   OMP_WAIT_POLICY=PASSIVE build-ebench/bench/souk_encoder_bench   # defaults; 7 min at load 6
//   build-ebench/bench/souk_encoder_bench --sentences 256 --json
//
// See bench/lm/README.md for what each number means and measured runs.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

#include "common/file.h"
#include "common/status.h"
#include "lm/bert_config.h"
#include "lm/bert_encoder.h"
#include "lm/bert_model.h"
#include "lm/safetensors.h"
#include "lm/wordpiece_tokenizer.h"

#ifndef SOUK_ENCODER_BENCH_SOURCE_DIR
#define SOUK_ENCODER_BENCH_SOURCE_DIR "."
#endif

namespace souk::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Ids = std::vector<std::vector<int32_t>>;

constexpr int kCheckRows = 64;                // rows the peer compares with the engine
constexpr double kPeerMinCosine = 0.9999;     // brief: same computation
constexpr int kCheckpointVersion = 1;         // bump when the random init changes

struct BenchFlags {
  int sentences = 2048;
  int threads = 2;
  int batch = 32;
  int tokens = 32;
  int passes = 3;
  int tokenization_passes = 1;  // passes of the EncodeRaw (incl. tokenization) rows
  int latency_sentences = 64;
  uint64_t seed = 42;
  std::string model_dir;  // default: <tmp>/souk_encoder_bench_minilm_l6_seed<seed>
  std::string tokenizer_dir;
  std::string python = "/usr/bin/python3";
  std::string peer_script;
  bool skip_peer = false;
  bool peer_int8 = false;
  bool skip_tokenization_runs = false;
  bool json = false;
};

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0.0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// Environment variables that change how libgomp / OpenBLAS threads behave
// (read once when those libraries load, so they can only be set from outside).
nlohmann::json ThreadingEnvironment() {
  nlohmann::json j = nlohmann::json::object();
  for (const char* name : {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"}) {
    const char* v = std::getenv(name);
    j[name] = v ? nlohmann::json(v) : nlohmann::json(nullptr);
  }
  return j;
}

bool CpuHasFlag(const std::string& flag) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line);
    std::string w;
    while (words >> w) {
      if (w == flag) return true;
    }
    return false;
  }
  return false;
}

// --- checkpoint --------------------------------------------------------------

lm::BertConfig MiniLmL6Config() {
  lm::BertConfig c;
  c.vocab_size = 30522;
  c.hidden_size = 384;
  c.num_hidden_layers = 6;
  c.num_attention_heads = 12;
  c.intermediate_size = 1536;
  c.max_position_embeddings = 512;
  c.type_vocab_size = 2;
  c.hidden_act = "gelu";
  return c;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Random weights with the spread of bert_reference.py's generator (linear
// weights ~ N(0, 1/in), query/key twice that so attention is not uniform,
// biases and LayerNorm offsets ~ N(0, 0.1^2)), so that activations, attention
// and int8 rounding behave roughly like a trained model's rather than the
// near-zero N(0, 0.02^2) default init.
void RandomizeWeights(lm::BertModel& model, uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& [name, p] : model->BaseParameters()) {
    if (EndsWith(name, "LayerNorm.weight")) {
      p.normal_(1.0, 0.1, gen);
    } else if (EndsWith(name, "LayerNorm.bias") || EndsWith(name, ".bias")) {
      p.normal_(0.0, 0.1, gen);
    } else if (name.rfind("embeddings.", 0) == 0) {
      p.normal_(0.0, 0.5, gen);
    } else {
      const double std = 1.0 / std::sqrt(static_cast<double>(p.size(1)));
      const bool qk = name.find("attention.self.query") != std::string::npos ||
                      name.find("attention.self.key") != std::string::npos;
      p.normal_(0.0, qk ? 2.0 * std : std, gen);
    }
  }
}

// Builds (or reuses) the random MiniLM-L6 checkpoint folder.
Status EnsureCheckpoint(const fs::path& dir, const fs::path& tokenizer_dir, uint64_t seed, bool* built) {
  const nlohmann::json marker = {{"checkpoint_version", kCheckpointVersion},
                                 {"architecture", "MiniLM-L6-H384 (all-MiniLM-L6-v2 config)"},
                                 {"seed", seed}};
  std::error_code ec;
  const fs::path marker_path = dir / "bench_checkpoint.json";
  if (fs::exists(marker_path, ec) && fs::exists(dir / "model.safetensors", ec)) {
    std::ifstream in(marker_path);
    nlohmann::json have = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (have == marker) {
      *built = false;
      return OkStatus();
    }
  }
  *built = true;
  static const std::array<const char*, 7> kTokenizerFiles = {
      "vocab.txt",    "tokenizer.json",           "tokenizer_config.json", "special_tokens_map.json",
      "modules.json", "sentence_bert_config.json", "1_Pooling/config.json"};
  for (const char* name : kTokenizerFiles) {
    if (!fs::exists(tokenizer_dir / name, ec)) {
      return NotFoundError(fmt::format("tokenizer folder {}: {} is missing (pass --tokenizer-dir)",
                                       tokenizer_dir.string(), name));
    }
  }
  fs::create_directories(dir / "1_Pooling", ec);
  if (ec) return UnavailableError("cannot create " + dir.string() + ": " + ec.message());
  fs::remove(marker_path, ec);
  for (const char* name : kTokenizerFiles) {
    fs::copy_file(tokenizer_dir / name, dir / name, fs::copy_options::overwrite_existing, ec);
    if (ec) return UnavailableError(fmt::format("cannot copy {} into {}: {}", name, dir.string(), ec.message()));
  }
  try {
    lm::BertModel model(MiniLmL6Config());
    RandomizeWeights(model, seed);
    RETURN_IF_ERROR(lm::SaveBertWeights(model, dir, lm::SaveDType::kF32, {{"souk_bench", "random MiniLM-L6"}}));
  } catch (const std::exception& e) {
    return InternalError(std::string("building the random checkpoint: libtorch failed: ") + e.what());
  }
  return WriteFileAtomically(marker_path, marker.dump(2) + "\n");
}

// --- sentences ---------------------------------------------------------------

// Product-listing vocabulary; the generator mixes these and then fills with
// single-token words so that every sentence has exactly the requested length.
const std::vector<std::string>& WordPool() {
  static const std::vector<std::string> kWords = {
      "samsung", "bosch", "makita", "philips", "ikea", "dewalt", "whirlpool", "lenovo", "anker", "logitech",
      "stainless", "steel", "oak", "walnut", "cotton", "leather", "ceramic", "aluminum", "bamboo", "glass",
      "cordless", "drill", "kettle", "blender", "vacuum", "cleaner", "lamp", "sofa", "chair", "desk", "mattress",
      "headphones", "charger", "backpack", "sneakers", "jacket", "cookware", "skillet", "toaster", "monitor",
      "wireless", "waterproof", "ergonomic", "adjustable", "foldable", "rechargeable", "portable", "compact",
      "black", "white", "grey", "navy", "red", "green", "beige", "matte", "brushed", "polished",
      "with", "for", "and", "kitchen", "bathroom", "garden", "office", "outdoor", "kids", "inch", "pack",
      "watt", "volt", "litre", "queen", "king", "size", "set", "of", "2", "4", "12", "20v", "1500w", "usb-c",
      "bluetooth", "noise", "cancelling", "memory", "foam", "non-stick", "energy", "saving", "led", "dimmable",
      "heavy-duty", "replacement", "filter", "blade", "battery", "included", "pro", "max", "mini", "ultra"};
  return kWords;
}

// Sentences of exactly `tokens` ids (incl. [CLS]/[SEP]) under `tokenizer`.
StatusOr<std::vector<std::string>> MakeSentences(const lm::WordPieceTokenizer& tokenizer, int count, int tokens,
                                                 uint64_t seed) {
  if (tokens < 3) return InvalidArgumentError(fmt::format("--tokens must be at least 3, got {}", tokens));
  std::vector<std::string> fillers;
  for (const char* w : {"and", "with", "for", "the", "new", "set", "red", "black", "pack", "home"}) {
    if (tokenizer.Encode(w, true, 0).size() == 3) fillers.emplace_back(w);
  }
  if (fillers.empty()) return FailedPreconditionError("the tokenizer has none of the single-token filler words");
  const auto& pool = WordPool();
  std::mt19937_64 rng(seed);
  std::vector<std::string> out;
  out.reserve(count);
  for (int i = 0; i < count; ++i) {
    std::string text;
    int rejects = 0;
    for (;;) {
      const bool fill = rejects >= 3;
      const std::string& word = fill ? fillers[rng() % fillers.size()] : pool[rng() % pool.size()];
      const std::string candidate = text.empty() ? word : text + " " + word;
      const auto n = static_cast<int>(tokenizer.Encode(candidate, true, 0).size());
      if (n > tokens) {
        ++rejects;
        continue;
      }
      text = candidate;
      if (n == tokens) break;
    }
    const auto n = tokenizer.Encode(text, true, 0).size();
    if (static_cast<int>(n) != tokens) {
      return InternalError(fmt::format("sentence {} has {} tokens, wanted {}: \"{}\"", i, n, tokens, text));
    }
    out.push_back(std::move(text));
  }
  return out;
}

// --- engine on pre-tokenized ids ----------------------------------------------

// The engine on pre-tokenized ids: BertEncoder::EncodeIds (the same batching,
// padding and pooling as Encode/EncodeRaw, without the tokenizer).
struct EngineModel {
  std::unique_ptr<lm::BertEncoder> encoder;
};

StatusOr<EngineModel> LoadEngineModel(const fs::path& dir, bool int8, int threads, int batch_size) {
  lm::BertEncoderOptions o;
  o.int8 = int8;
  o.threads = threads;
  o.batch_size = batch_size;
  EngineModel m;
  ASSIGN_OR_RETURN(m.encoder, lm::BertEncoder::Load(dir, o));
  return m;
}

Status EncodeIds(EngineModel& m, const Ids& ids, int /*batch_size: fixed at load*/, float* out) {
  return m.encoder->EncodeIds(ids, out);
}

double Cosine(const float* a, const float* b, int dim) {
  double ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < dim; ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return ab / std::max(1e-30, std::sqrt(aa * bb));
}

struct CosineStats {
  double mean = 0, min = 1;
};

CosineStats CompareRows(const std::vector<float>& a, const std::vector<float>& b, size_t rows, int dim) {
  CosineStats s;
  for (size_t r = 0; r < rows; ++r) {
    const double c = Cosine(a.data() + r * dim, b.data() + r * dim, dim);
    s.mean += c / static_cast<double>(rows);
    s.min = std::min(s.min, c);
  }
  return s;
}

struct Throughput {
  std::vector<double> pass_seconds;
  double sentences_per_second = 0;
};

// Warm-up batch, then `passes` timed calls of run(); each processes n sentences.
Status TimePasses(int passes, size_t n, const std::function<Status(bool warmup)>& run, Throughput* t) {
  RETURN_IF_ERROR(run(true));
  for (int p = 0; p < passes; ++p) {
    const auto t0 = Clock::now();
    RETURN_IF_ERROR(run(false));
    t->pass_seconds.push_back(SecondsSince(t0));
  }
  t->sentences_per_second = static_cast<double>(n) / Median(t->pass_seconds);
  return OkStatus();
}

struct Latency {
  int sentences = 0;
  double median_ms = 0, mean_ms = 0;
};

// Batch-1 latency: each of the first `count` sentences alone.
Status MeasureLatency(EngineModel& m, const Ids& ids, int count, Latency* lat) {
  const int64_t dim = m.encoder->Dim();
  std::vector<float> out(dim);
  const int n = std::min<int>(count, static_cast<int>(ids.size()));
  RETURN_IF_ERROR(EncodeIds(m, Ids{ids[0]}, 1, out.data()));  // warm-up
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    RETURN_IF_ERROR(EncodeIds(m, Ids{ids[i]}, 1, out.data()));
    ms.push_back(SecondsSince(t0) * 1000.0);
  }
  lat->sentences = n;
  lat->median_ms = Median(ms);
  lat->mean_ms = ms.empty() ? 0 : std::accumulate(ms.begin(), ms.end(), 0.0) / static_cast<double>(ms.size());
  return OkStatus();
}

// --- bf16 point -----------------------------------------------------------------

struct Bf16Point {
  double fp32_gflops = 0, bf16_gflops = 0;
  double max_rel_error = 0;
  std::string shape;
};

// One feed-forward GEMM of the model at the benchmark's batch shape
// ([batch*tokens, 384] x [384, 1536]), fp32 vs bf16 through torch::linear.
// bf16 repetitions stop after ~2 s so that a slow path stays cheap.
StatusOr<Bf16Point> MeasureBf16(int64_t rows) {
  Bf16Point point;
  try {
    c10::InferenceMode guard;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
    auto x = torch::randn({rows, 384}, gen);
    auto w = torch::randn({1536, 384}, gen) / std::sqrt(384.0);
    auto bias = torch::zeros({1536});
    const double flops = 2.0 * rows * 384 * 1536;
    point.shape = fmt::format("[{}, 384] x [384, 1536]", rows);
    auto time_it = [&](const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& c, torch::Tensor* y) {
      *y = torch::linear(a, b, c);  // warm-up
      int reps = 0;
      const auto t0 = Clock::now();
      while (reps < 20 && (reps < 2 || SecondsSince(t0) < 2.0)) {
        *y = torch::linear(a, b, c);
        ++reps;
      }
      return flops * reps / SecondsSince(t0) / 1e9;
    };
    torch::Tensor y32, y16;
    point.fp32_gflops = time_it(x, w, bias, &y32);
    point.bf16_gflops = time_it(x.to(torch::kBFloat16), w.to(torch::kBFloat16), bias.to(torch::kBFloat16), &y16);
    point.max_rel_error = ((y16.to(torch::kFloat32) - y32).abs().max() / y32.abs().max()).item<double>();
  } catch (const std::exception& e) {
    return InternalError(std::string("bf16 point: libtorch failed: ") + e.what());
  }
  return point;
}

// --- peer ----------------------------------------------------------------------------

Status WriteJson(const fs::path& path, const nlohmann::json& j) { return WriteFileAtomically(path, j.dump()); }

// Runs the python peer; returns its JSON. The peer's stderr passes through.
StatusOr<nlohmann::json> RunPeer(const BenchFlags& f, const fs::path& model_dir, const fs::path& ids_file,
                                 const fs::path& check_file, const fs::path& out_file) {
  auto quote = [](const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  };
  std::string cmd = fmt::format("{} {} --dir {} --ids {} --threads {} --batch {} --passes {} --check {} --latency {}",
                                quote(f.python), quote(f.peer_script), quote(model_dir.string()),
                                quote(ids_file.string()), f.threads, f.batch, f.passes, quote(check_file.string()),
                                f.latency_sentences);
  if (f.peer_int8) cmd += " --int8";
  cmd += " > " + quote(out_file.string());
  std::fprintf(stderr, "peer: %s\n", cmd.c_str());
  const int rc = std::system(cmd.c_str());
  const int code = rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
  std::ifstream in(out_file);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (code == 3 && j.is_object()) return j;  // vectors disagree: reported by the caller
  if (code != 0) {
    return UnavailableError(fmt::format("peer {} exited with status {} (is python3-torch installed for {}?)",
                                        f.peer_script, code, f.python));
  }
  if (!j.is_object() || !j.contains("sentences_per_second")) {
    return DataLossError("peer output " + out_file.string() + " is not the expected JSON object");
  }
  return j;
}

// --- the run ---------------------------------------------------------------------------

struct EngineRun {
  Throughput ids, with_tokenization;
  Latency latency;
  std::vector<float> vectors;  // all rows, from the ids path
};

Status RunEngine(const BenchFlags& f, const fs::path& dir, bool int8, int64_t pad_id, const Ids& ids,
                 const std::vector<std::string>& texts, int dim, EngineRun* r) {
  const char* name = int8 ? "int8" : "fp32";
  ASSIGN_OR_RETURN(EngineModel m, LoadEngineModel(dir, int8, f.threads, f.batch));
  r->vectors.assign(ids.size() * dim, 0.0f);
  const Ids warm(ids.begin(), ids.begin() + std::min<size_t>(ids.size(), f.batch));
  std::vector<float> scratch(warm.size() * dim);
  RETURN_IF_ERROR(TimePasses(
      f.passes, ids.size(),
      [&](bool warmup) {
        return warmup ? EncodeIds(m, warm, f.batch, scratch.data()) : EncodeIds(m, ids, f.batch, r->vectors.data());
      },
      &r->ids));
  std::fprintf(stderr, "engine %s (ids): %.1f sentences/s\n", name, r->ids.sentences_per_second);
  RETURN_IF_ERROR(MeasureLatency(m, ids, f.latency_sentences, &r->latency));
  std::fprintf(stderr, "engine %s batch 1: %.2f ms/sentence\n", name, r->latency.median_ms);
  m.encoder.reset();

  lm::BertEncoderOptions options;
  options.threads = f.threads;
  options.batch_size = f.batch;
  options.int8 = int8;
  ASSIGN_OR_RETURN(auto encoder, lm::BertEncoder::Load(dir, options));
  // The ids path must be BertEncoder's computation: compare the first rows.
  const size_t rows = std::min<size_t>(texts.size(), kCheckRows);
  std::vector<float> raw(rows * dim);
  RETURN_IF_ERROR(encoder->EncodeRaw(std::span<const std::string>(texts.data(), rows), lm::TextKind::kDocument,
                                     raw.data()));
  const CosineStats same = CompareRows(raw, r->vectors, rows, dim);
  if (same.min < 0.99999) {
    return InternalError(fmt::format("engine {}: ids path and BertEncoder::EncodeRaw disagree (min cosine {:.6f})",
                                     name, same.min));
  }
  if (!f.skip_tokenization_runs) {
    const std::vector<std::string> warm_texts(texts.begin(), texts.begin() + warm.size());
    std::vector<float> out(texts.size() * dim);
    RETURN_IF_ERROR(TimePasses(
        f.tokenization_passes, texts.size(),
        [&](bool warmup) {
          return warmup ? encoder->EncodeRaw(warm_texts, lm::TextKind::kDocument, scratch.data())
                        : encoder->EncodeRaw(texts, lm::TextKind::kDocument, out.data());
        },
        &r->with_tokenization));
    std::fprintf(stderr, "engine %s (texts, incl. tokenization): %.1f sentences/s\n", name,
                 r->with_tokenization.sentences_per_second);
  }
  return OkStatus();
}

nlohmann::json ThroughputJson(const Throughput& t) {
  if (t.pass_seconds.empty()) return nullptr;
  return {{"sentences_per_second", t.sentences_per_second}, {"passes_seconds", t.pass_seconds}};
}

nlohmann::json LatencyJson(const Latency& l) {
  return {{"sentences", l.sentences}, {"median_ms", l.median_ms}, {"mean_ms", l.mean_ms}};
}

Status Run(BenchFlags f) {
  if (f.sentences <= 0 || f.threads <= 0 || f.batch <= 0 || f.passes <= 0 || f.latency_sentences <= 0 ||
      f.tokenization_passes <= 0) {
    return InvalidArgumentError(
        "--sentences, --threads, --batch, --passes, --tokenization-passes and --latency-sentences must be positive");
  }
  const std::string load_before = LoadAverage();
  const auto t_start = Clock::now();
  const fs::path source_dir = SOUK_ENCODER_BENCH_SOURCE_DIR;
  if (f.tokenizer_dir.empty()) {
    const char* shared = std::getenv("SOUK_SHARED_DIR");
    const fs::path root = shared && *shared ? fs::path(shared) : source_dir.parent_path() / "shared";
    f.tokenizer_dir = (root / "models" / "all-MiniLM-L6-v2").string();
  }
  if (f.model_dir.empty()) {
    f.model_dir = (fs::temp_directory_path() / fmt::format("souk_encoder_bench_minilm_l6_seed{}", f.seed)).string();
  }
  if (f.peer_script.empty()) f.peer_script = (source_dir / "bench" / "lm" / "torch_peer.py").string();
  const fs::path dir = f.model_dir;

  at::set_num_threads(f.threads);
  bool built = false;
  RETURN_IF_ERROR(EnsureCheckpoint(dir, f.tokenizer_dir, f.seed, &built));
  std::fprintf(stderr, "checkpoint: %s (%s)\n", dir.c_str(), built ? "built" : "cached");

  ASSIGN_OR_RETURN(lm::WordPieceTokenizer tokenizer, lm::WordPieceTokenizer::FromDirectory(dir));
  ASSIGN_OR_RETURN(lm::BertConfig config, lm::BertConfig::FromJsonFile(dir / "config.json"));
  if (f.tokens > 256 || f.tokens > config.max_position_embeddings) {
    return InvalidArgumentError(fmt::format("--tokens {} exceeds the model's max_seq_length 256", f.tokens));
  }
  const int dim = config.hidden_size;
  ASSIGN_OR_RETURN(std::vector<std::string> texts, MakeSentences(tokenizer, f.sentences, f.tokens, f.seed));
  Ids ids;
  ids.reserve(texts.size());
  const auto t_tok = Clock::now();
  for (const auto& t : texts) ids.push_back(tokenizer.Encode(t, true, f.tokens));
  const double tokenize_seconds = SecondsSince(t_tok);
  std::fprintf(stderr, "%d sentences of %d tokens, e.g. \"%s\"; tokenization %.1f ms\n", f.sentences, f.tokens,
               texts[0].c_str(), tokenize_seconds * 1000);

  EngineRun fp32, int8;
  RETURN_IF_ERROR(RunEngine(f, dir, /*int8=*/false, tokenizer.pad_id() >= 0 ? tokenizer.pad_id() : 0, ids, texts,
                            dim, &fp32));
  RETURN_IF_ERROR(RunEngine(f, dir, /*int8=*/true, tokenizer.pad_id() >= 0 ? tokenizer.pad_id() : 0, ids, texts,
                            dim, &int8));
  const CosineStats int8_vs_fp32 = CompareRows(int8.vectors, fp32.vectors, ids.size(), dim);

  ASSIGN_OR_RETURN(Bf16Point bf16, MeasureBf16(static_cast<int64_t>(f.batch) * f.tokens));
  std::fprintf(stderr, "bf16 GEMM %s: fp32 %.1f GFLOP/s, bf16 %.2f GFLOP/s\n", bf16.shape.c_str(), bf16.fp32_gflops,
               bf16.bf16_gflops);

  nlohmann::json peer = nullptr;
  bool peer_agrees = true;
  if (!f.skip_peer) {
    const fs::path work = dir / "run";
    std::error_code ec;
    fs::create_directories(work, ec);
    if (ec) return UnavailableError("cannot create " + work.string() + ": " + ec.message());
    RETURN_IF_ERROR(WriteJson(work / "ids.json", ids));
    nlohmann::json check = nlohmann::json::array();
    for (size_t r = 0; r < std::min<size_t>(ids.size(), kCheckRows); ++r) {
      check.push_back(std::vector<float>(fp32.vectors.begin() + r * dim, fp32.vectors.begin() + (r + 1) * dim));
    }
    RETURN_IF_ERROR(WriteJson(work / "check.json", check));
    ASSIGN_OR_RETURN(peer, RunPeer(f, dir, work / "ids.json", work / "check.json", work / "peer.json"));
    peer_agrees = peer["check"].is_object() && peer["check"].value("agree", false);
    std::fprintf(stderr, "peer fp32 eager: %.1f sentences/s\n", peer["sentences_per_second"].get<double>());
  }

  // --- report ---
  const double peer_sps = peer.is_object() ? peer["sentences_per_second"].get<double>() : 0.0;
  const double peer_lat = peer.is_object() && peer["latency_ms"].is_object()
                              ? peer["latency_ms"]["median_ms"].get<double>()
                              : 0.0;
  FILE* table = f.json ? stderr : stdout;
  auto speedup = [&](double sps) { return peer_sps > 0 ? fmt::format("{:.2f}x", sps / peer_sps) : std::string("-"); };
  auto lat_speedup = [&](double ms) {
    return peer_lat > 0 && ms > 0 ? fmt::format("{:.2f}x", peer_lat / ms) : std::string("-");
  };
  std::fprintf(table,
               "\nMiniLM-L6 (random weights), %d sentences x %d tokens, threads %d, batch %d, median of %d passes "
               "(%d incl. tokenization)\n",
               f.sentences, f.tokens, f.threads, f.batch, f.passes, f.tokenization_passes);
  std::fprintf(table, "%-34s %12s %10s %14s %10s\n", "system", "sentences/s", "vs peer", "batch-1 ms", "vs peer");
  auto row = [&](const std::string& name, double sps, double lat_ms) {
    std::fprintf(table, "%-34s %12.1f %10s %14s %10s\n", name.c_str(), sps, speedup(sps).c_str(),
                 lat_ms > 0 ? fmt::format("{:.2f}", lat_ms).c_str() : "-", lat_speedup(lat_ms).c_str());
  };
  row("engine fp32 (ids)", fp32.ids.sentences_per_second, fp32.latency.median_ms);
  row("engine int8 (ids)", int8.ids.sentences_per_second, int8.latency.median_ms);
  if (!f.skip_tokenization_runs) {
    row("engine fp32 (texts, incl. tokenize)", fp32.with_tokenization.sentences_per_second, 0);
    row("engine int8 (texts, incl. tokenize)", int8.with_tokenization.sentences_per_second, 0);
  }
  if (peer.is_object()) {
    row("peer fp32 eager (python3-torch)", peer_sps, peer_lat);
    if (peer.contains("int8")) {
      const auto& q = peer["int8"];
      row("peer int8 quantize_dynamic", q["sentences_per_second"].get<double>(),
          q["latency_ms"].is_object() ? q["latency_ms"]["median_ms"].get<double>() : 0.0);
    }
  }
  std::fprintf(table, "int8 vs fp32 cosine: mean %.5f, min %.5f (%zu sentences)\n", int8_vs_fp32.mean,
               int8_vs_fp32.min, ids.size());
  if (peer.is_object()) {
    std::fprintf(table, "peer vs engine fp32 cosine (first %d): min %.7f -> %s\n", kCheckRows,
                 peer["check"].is_object() ? peer["check"]["min_cosine"].get<double>() : 0.0,
                 peer_agrees ? "same computation" : "DISAGREE");
  }
  std::fprintf(table, "bf16: GEMM %s fp32 %.1f GFLOP/s, bf16 %.2f GFLOP/s (%.0fx slower), avx512_bf16 %s\n",
               bf16.shape.c_str(), bf16.fp32_gflops, bf16.bf16_gflops,
               bf16.bf16_gflops > 0 ? bf16.fp32_gflops / bf16.bf16_gflops : 0.0,
               CpuHasFlag("avx512_bf16") ? "yes" : "no");
  std::fprintf(table, "environment: %s\n", ThreadingEnvironment().dump().c_str());
  std::fprintf(table, "tokenization alone: %.0f sentences/s (one thread); load average %s -> %s\n",
               static_cast<double>(texts.size()) / std::max(1e-9, tokenize_seconds), load_before.c_str(),
               LoadAverage().c_str());

  if (f.json) {
    nlohmann::json j = {
        {"benchmark", "encoder_throughput"},
        {"model", {{"architecture", "MiniLM-L6-H384"}, {"weights", "random"}, {"dir", dir.string()},
                   {"seed", f.seed}}},
        {"sentences", f.sentences},
        {"tokens", f.tokens},
        {"threads", f.threads},
        {"batch", f.batch},
        {"passes", f.passes},
        {"libtorch_quantized_engine", c10::toString(at::globalContext().qEngine())},
        {"cpu_avx512_bf16", CpuHasFlag("avx512_bf16")},
        {"load_average_before", load_before},
        {"environment", ThreadingEnvironment()},
        {"load_average_after", LoadAverage()},
        {"seconds_total", SecondsSince(t_start)},
        {"tokenization_sentences_per_second", static_cast<double>(texts.size()) / std::max(1e-9, tokenize_seconds)},
        {"engine_fp32",
         {{"ids", ThroughputJson(fp32.ids)},
          {"with_tokenization", ThroughputJson(fp32.with_tokenization)},
          {"batch1_latency", LatencyJson(fp32.latency)}}},
        {"engine_int8",
         {{"ids", ThroughputJson(int8.ids)},
          {"with_tokenization", ThroughputJson(int8.with_tokenization)},
          {"batch1_latency", LatencyJson(int8.latency)},
          {"cosine_vs_fp32", {{"mean", int8_vs_fp32.mean}, {"min", int8_vs_fp32.min}}}}},
        {"bf16",
         {{"supported", false},
          {"gemm", bf16.shape},
          {"fp32_gflops", bf16.fp32_gflops},
          {"bf16_gflops", bf16.bf16_gflops},
          {"max_rel_error", bf16.max_rel_error}}},
        {"peer", peer},
    };
    if (peer_sps > 0) {
      j["speedup_vs_peer"] = {{"engine_fp32", fp32.ids.sentences_per_second / peer_sps},
                              {"engine_int8", int8.ids.sentences_per_second / peer_sps}};
    }
    std::printf("%s\n", j.dump().c_str());
  }
  if (!peer_agrees) {
    return FailedPreconditionError(
        fmt::format("the peer's vectors disagree with the engine's (cosine < {}): the timings are not comparable",
                    kPeerMinCosine));
  }
  return OkStatus();
}

}  // namespace
}  // namespace souk::bench

int main(int argc, char** argv) {
  souk::bench::BenchFlags f;
  CLI::App app{"Souk BERT encoder throughput (MiniLM-L6, random weights) vs python3-torch eager"};
  app.add_option("--sentences", f.sentences, "synthetic sentences per pass");
  app.add_option("--threads", f.threads, "intra-op threads (engine and peer)");
  app.add_option("--batch", f.batch, "sentences per forward pass");
  app.add_option("--tokens", f.tokens, "tokens per sentence incl. [CLS]/[SEP] (3..256)");
  app.add_option("--passes", f.passes, "timed passes (the median is reported)");
  app.add_option("--tokenization-passes", f.tokenization_passes,
                 "timed passes of the rows incl. tokenization (BertEncoder::EncodeRaw)");
  app.add_option("--latency-sentences", f.latency_sentences, "sentences of the batch-1 latency point");
  app.add_option("--seed", f.seed, "seed of the weights and the sentences");
  app.add_option("--model-dir", f.model_dir, "checkpoint folder (built when missing, then reused)");
  app.add_option("--tokenizer-dir", f.tokenizer_dir,
                 "all-MiniLM-L6-v2 folder with the tokenizer files (default: shared models)");
  app.add_option("--python", f.python, "python with python3-torch for the peer");
  app.add_option("--peer-script", f.peer_script, "path of bench/lm/torch_peer.py");
  app.add_flag("--skip-peer", f.skip_peer, "engine only");
  app.add_flag("--peer-int8", f.peer_int8, "also time the peer with quantize_dynamic (qint8 linears)");
  app.add_flag("--skip-tokenization-runs", f.skip_tokenization_runs,
               "skip the BertEncoder::EncodeRaw passes (incl. tokenization)");
  app.add_flag("--json", f.json, "print one JSON object on stdout (the table goes to stderr)");
  CLI11_PARSE(app, argc, argv);
  if (souk::Status s = souk::bench::Run(f); !s.ok()) {
    std::fprintf(stderr, "souk_encoder_bench: error: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
