// VectorIndex on Faiss IndexHNSWFlat (inner product on normalized vectors).
// This file is the only place that talks to Faiss: every Faiss call sits in a
// try block and its exceptions become a Status.
#include "index/vector_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/HNSW.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/utils/distances.h>
#include <fcntl.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <limits>
#include <new>
#include <queue>
#include <random>
#include <string_view>
#include <utility>

namespace souk::index {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the vector index files are written in host order; little-endian only");

namespace fs = std::filesystem;

constexpr uint32_t kNoDoc = UINT32_MAX;
constexpr char kMagic[8] = {'S', 'O', 'U', 'K', 'V', 'I', 'D', 'X'};
constexpr size_t kAddChunk = 16384;          // vectors per Faiss add() call
constexpr double kSelectiveFraction = 0.02;  // filters this selective go exact
constexpr int kMaxDim = 65536;

// ---------------------------------------------------------------- errors

Status FaissError(std::string_view what, const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr) {
    return ResourceExhaustedError(std::string(what) + ": out of memory");
  }
  return InternalError(std::string(what) + ": faiss: " + e.what());
}

Status ValidateOptions(const VectorIndexOptions& o) {
  if (o.dim < 1 || o.dim > kMaxDim) {
    return InvalidArgumentError("vector index: dim must be in 1.." + std::to_string(kMaxDim) +
                                ", got " + std::to_string(o.dim));
  }
  if (o.hnsw_m < 2 || o.hnsw_m > 256) {
    return InvalidArgumentError("vector index: hnsw_m must be in 2..256, got " +
                                std::to_string(o.hnsw_m));
  }
  if (o.ef_construction < 1) {
    return InvalidArgumentError("vector index: ef_construction must be >= 1, got " +
                                std::to_string(o.ef_construction));
  }
  if (o.ef_search < 1) {
    return InvalidArgumentError("vector index: ef_search must be >= 1, got " +
                                std::to_string(o.ef_search));
  }
  if (!(o.compact_deleted_fraction > 0.0 && o.compact_deleted_fraction <= 1.0)) {
    return InvalidArgumentError("vector index: compact_deleted_fraction must be in (0, 1], got " +
                                std::to_string(o.compact_deleted_fraction));
  }
  return OkStatus();
}

// Checks `v` (dim floats) and writes its normalized copy to `out`.
// `what` names the vector in the error ("vector of doc 7", "query vector").
Status NormalizeInto(const float* v, int dim, float* out, const std::string& what) {
  double sq = 0.0;
  for (int i = 0; i < dim; ++i) {
    if (!std::isfinite(v[i])) {
      return InvalidArgumentError(what + ": component " + std::to_string(i) + " is " +
                                  (std::isnan(v[i]) ? "NaN" : "infinite"));
    }
    sq += static_cast<double>(v[i]) * v[i];
  }
  if (!(sq > 0.0)) return InvalidArgumentError(what + ": zero vector cannot be normalized");
  const double inv = 1.0 / std::sqrt(sq);
  for (int i = 0; i < dim; ++i) out[i] = static_cast<float>(v[i] * inv);
  return OkStatus();
}

// ---------------------------------------------------------------- search helpers

// Slots a graph walk may return: not deleted, and allowed by the doc filter.
class SlotSelector final : public faiss::IDSelector {
 public:
  SlotSelector(const std::vector<uint8_t>& deleted, const std::vector<uint32_t>& slot_to_doc,
               const std::vector<uint8_t>* allow)
      : deleted_(deleted), slot_to_doc_(slot_to_doc), allow_(allow) {}

  bool is_member(idx_t id) const override {
    const auto slot = static_cast<size_t>(id);
    if (slot >= deleted_.size() || deleted_[slot] != 0) return false;
    if (allow_ == nullptr) return true;
    const uint32_t doc = slot_to_doc_[slot];
    return doc < allow_->size() && (*allow_)[doc] != 0;
  }

 private:
  const std::vector<uint8_t>& deleted_;
  const std::vector<uint32_t>& slot_to_doc_;
  const std::vector<uint8_t>* allow_;
};

// Runs the enclosed Faiss call on the calling thread only: one query gains
// nothing from an OpenMP team, and on a busy machine the team's barrier costs
// milliseconds. The OpenMP thread count is a per-thread setting; it is restored.
class SingleThreadedOpenMp {
 public:
  SingleThreadedOpenMp() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~SingleThreadedOpenMp() { omp_set_num_threads(saved_); }
  SingleThreadedOpenMp(const SingleThreadedOpenMp&) = delete;
  SingleThreadedOpenMp& operator=(const SingleThreadedOpenMp&) = delete;

 private:
  int saved_;
};

// Better hit first: higher score, then smaller doc.
bool Better(const VectorHit& a, const VectorHit& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.doc < b.doc;
}

// ---------------------------------------------------------------- files

// FNV-1a 64 over a byte stream.
class Fnv64 {
 public:
  void Update(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    uint64_t h = h_;
    for (size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 0x100000001b3ULL;
    }
    h_ = h;
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

// Faiss writer into a FILE*, hashing and counting what it writes.
class HashingFileWriter final : public faiss::IOWriter {
 public:
  explicit HashingFileWriter(FILE* f) : f_(f) { name = "vector index file"; }
  size_t operator()(const void* ptr, size_t size, size_t nitems) override {
    const size_t done = std::fwrite(ptr, size, nitems, f_);
    hash_.Update(ptr, done * size);
    bytes_ += done * size;
    return done;
  }
  uint64_t hash() const { return hash_.value(); }
  uint64_t bytes() const { return bytes_; }

 private:
  FILE* f_;
  Fnv64 hash_;
  uint64_t bytes_ = 0;
};

// Closes the FILE* and removes the temp file unless released.
class TempFile {
 public:
  explicit TempFile(fs::path path) : path_(std::move(path)) {
    f_ = std::fopen(path_.c_str(), "wb");
  }
  ~TempFile() {
    if (f_ != nullptr) std::fclose(f_);
    if (!released_) {
      std::error_code ec;
      fs::remove(path_, ec);
    }
  }
  FILE* get() const { return f_; }
  const fs::path& path() const { return path_; }

  // Flushes to disk and closes; then renames onto `target`.
  Status CommitAs(const fs::path& target) {
    if (f_ == nullptr) return InternalError("vector index: " + path_.string() + " is not open");
    bool ok = std::fflush(f_) == 0 && ::fsync(::fileno(f_)) == 0;
    ok = (std::fclose(f_) == 0) && ok;
    f_ = nullptr;
    if (!ok) {
      return ResourceExhaustedError("vector index: cannot write " + path_.string() + ": " +
                                    std::strerror(errno));
    }
    std::error_code ec;
    fs::rename(path_, target, ec);
    if (ec) {
      return InternalError("vector index: cannot rename " + path_.string() + " to " +
                           target.string() + ": " + ec.message());
    }
    released_ = true;
    return OkStatus();
  }

 private:
  fs::path path_;
  FILE* f_ = nullptr;
  bool released_ = false;
};

void SyncDir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}

std::string RandomSuffix() {
  std::random_device rd;
  char buf[32];
  std::snprintf(buf, sizeof(buf), ".%08x%08x.tmp", rd(), rd());
  return buf;
}

StatusOr<std::pair<uint64_t, uint64_t>> HashFile(const fs::path& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return DataLossError("vector index: cannot open " + path.string() + ": " +
                         std::strerror(errno));
  }
  Fnv64 hash;
  uint64_t bytes = 0;
  std::vector<char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
    hash.Update(buf.data(), n);
    bytes += n;
  }
  const bool err = std::ferror(f) != 0;
  std::fclose(f);
  if (err) return DataLossError("vector index: read error on " + path.string());
  return std::make_pair(bytes, hash.value());
}

// Little-endian append/read of the header fields.
class ByteWriter {
 public:
  template <typename T>
  void Put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    buf_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  void PutBytes(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
  std::string& buf() { return buf_; }

 private:
  std::string buf_;
};

class ByteReader {
 public:
  ByteReader(std::string_view data, std::string where) : data_(data), where_(std::move(where)) {}
  template <typename T>
  Status Get(T* v, const char* field) {
    RETURN_IF_ERROR(Need(sizeof(T), field));
    std::memcpy(v, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return OkStatus();
  }
  Status GetBytes(void* p, size_t n, const char* field) {
    RETURN_IF_ERROR(Need(n, field));
    std::memcpy(p, data_.data() + pos_, n);
    pos_ += n;
    return OkStatus();
  }
  Status Need(size_t n, const char* field) const {
    if (data_.size() - pos_ < n) {
      return DataLossError(where_ + ": truncated at offset " + std::to_string(pos_) + " reading " +
                           field);
    }
    return OkStatus();
  }
  size_t remaining() const { return data_.size() - pos_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  std::string where_;
};

const float* StorageData(const faiss::IndexHNSWFlat& graph) {
  return static_cast<const faiss::IndexFlat*>(graph.storage)->get_xb();
}

}  // namespace

// ---------------------------------------------------------------- life cycle

VectorIndex::VectorIndex(VectorIndexOptions o) : options_(o) {}
VectorIndex::~VectorIndex() = default;

std::unique_ptr<faiss::IndexHNSWFlat> VectorIndex::NewGraph() const {
  auto graph = std::make_unique<faiss::IndexHNSWFlat>(options_.dim, options_.hnsw_m,
                                                      faiss::METRIC_INNER_PRODUCT);
  graph->hnsw.efConstruction = options_.ef_construction;
  graph->hnsw.efSearch = options_.ef_search;
  return graph;
}

StatusOr<std::unique_ptr<VectorIndex>> VectorIndex::Create(VectorIndexOptions o) {
  RETURN_IF_ERROR(ValidateOptions(o));
  std::unique_ptr<VectorIndex> index(new VectorIndex(o));
  try {
    index->graph_ = index->NewGraph();
  } catch (const std::exception& e) {
    return FaissError("vector index: create", e);
  }
  return index;
}

// ---------------------------------------------------------------- updates

void VectorIndex::MarkDeleted(uint32_t slot) {
  if (slot_deleted_[slot] == 0) {
    slot_deleted_[slot] = 1;
    ++num_deleted_;
  }
}

const float* VectorIndex::SlotVector(uint32_t slot) const {
  return StorageData(*graph_) + static_cast<size_t>(slot) * options_.dim;
}

Status VectorIndex::AppendNormalized(std::span<const uint32_t> docs, const float* vecs,
                                     Progress* progress) {
  const size_t dim = static_cast<size_t>(options_.dim);
  if (num_slots() + docs.size() > static_cast<size_t>(INT_MAX)) {
    return ResourceExhaustedError("vector index: more than " + std::to_string(INT_MAX) +
                                  " slots; Compact() or shard the index");
  }
  for (size_t begin = 0; begin < docs.size(); begin += kAddChunk) {
    const size_t n = std::min(kAddChunk, docs.size() - begin);
    Status add_status;
    try {
      graph_->add(static_cast<faiss::Index::idx_t>(n), vecs + begin * dim);
    } catch (const std::exception& e) {
      add_status = FaissError("vector index: add", e);
    }
    // Map whatever the graph now holds; slots a failed add left behind are
    // orphans, marked deleted so they are never returned.
    const auto total = static_cast<size_t>(graph_->ntotal);
    for (size_t i = 0; num_slots() < total; ++i) {
      const auto slot = static_cast<uint32_t>(num_slots());
      if (add_status.ok() && i < n) {
        const uint32_t doc = docs[begin + i];
        slot_to_doc_.push_back(doc);
        slot_deleted_.push_back(0);
        auto [it, inserted] = doc_to_slot_.try_emplace(doc, slot);
        if (!inserted) {
          MarkDeleted(it->second);
          it->second = slot;
        }
      } else {
        slot_to_doc_.push_back(kNoDoc);
        slot_deleted_.push_back(1);
        ++num_deleted_;
      }
    }
    RETURN_IF_ERROR(add_status);
    if (progress != nullptr) progress->Add(n);
  }
  return OkStatus();
}

Status VectorIndex::Upsert(uint32_t doc, std::span<const float> vec) {
  if (doc == kNoDoc) return InvalidArgumentError("vector index: doc id UINT32_MAX is reserved");
  if (vec.size() != static_cast<size_t>(options_.dim)) {
    return InvalidArgumentError("vector index: vector of doc " + std::to_string(doc) + " has " +
                                std::to_string(vec.size()) + " floats, expected dim " +
                                std::to_string(options_.dim));
  }
  std::vector<float> normalized(vec.size());
  RETURN_IF_ERROR(NormalizeInto(vec.data(), options_.dim, normalized.data(),
                                "vector index: vector of doc " + std::to_string(doc)));
  const uint32_t docs[1] = {doc};
  return AppendNormalized(docs, normalized.data(), nullptr);
}

Status VectorIndex::AddBatch(std::span<const uint32_t> docs, std::span<const float> vecs,
                             ProgressOptions* progress) {
  const size_t dim = static_cast<size_t>(options_.dim);
  if (vecs.size() != docs.size() * dim) {
    return InvalidArgumentError("vector index: batch of " + std::to_string(docs.size()) +
                                " docs needs " + std::to_string(docs.size() * dim) +
                                " floats (dim " + std::to_string(dim) + "), got " +
                                std::to_string(vecs.size()));
  }
  // Last occurrence of each doc wins; earlier ones are dropped before insertion.
  std::unordered_map<uint32_t, size_t> last;
  last.reserve(docs.size());
  for (size_t i = 0; i < docs.size(); ++i) {
    if (docs[i] == kNoDoc) {
      return InvalidArgumentError("vector index: batch row " + std::to_string(i) +
                                  ": doc id UINT32_MAX is reserved");
    }
    last[docs[i]] = i;
  }
  std::vector<uint32_t> kept_docs;
  std::vector<float> normalized;
  kept_docs.reserve(last.size());
  normalized.resize(last.size() * dim);
  for (size_t i = 0; i < docs.size(); ++i) {
    if (last[docs[i]] != i) continue;
    RETURN_IF_ERROR(NormalizeInto(
        vecs.data() + i * dim, options_.dim, normalized.data() + kept_docs.size() * dim,
        "vector index: batch row " + std::to_string(i) + " (doc " + std::to_string(docs[i]) + ")"));
    kept_docs.push_back(docs[i]);
  }
  std::unique_ptr<Progress> bar;
  if (progress != nullptr) {
    ProgressOptions po = *progress;
    if (po.unit.empty()) po.unit = "vectors";
    bar = std::make_unique<Progress>("vector index add", kept_docs.size(), po);
  }
  Status s = AppendNormalized(kept_docs, normalized.data(), bar.get());
  if (bar != nullptr) bar->Finish();
  return s;
}

Status VectorIndex::Delete(uint32_t doc) {
  auto it = doc_to_slot_.find(doc);
  if (it == doc_to_slot_.end()) {
    return NotFoundError("vector index: doc " + std::to_string(doc) + " has no vector");
  }
  MarkDeleted(it->second);
  doc_to_slot_.erase(it);
  return OkStatus();
}

Status VectorIndex::Compact() {
  if (num_deleted_ == 0) return OkStatus();
  const size_t dim = static_cast<size_t>(options_.dim);
  std::vector<uint32_t> live_slots;
  live_slots.reserve(size());
  for (uint32_t s = 0; s < num_slots(); ++s) {
    if (slot_deleted_[s] == 0) live_slots.push_back(s);
  }
  std::unique_ptr<faiss::IndexHNSWFlat> graph;
  try {
    graph = NewGraph();
    std::vector<float> chunk;
    for (size_t begin = 0; begin < live_slots.size(); begin += kAddChunk) {
      const size_t n = std::min(kAddChunk, live_slots.size() - begin);
      chunk.resize(n * dim);
      for (size_t i = 0; i < n; ++i) {
        std::memcpy(chunk.data() + i * dim, SlotVector(live_slots[begin + i]), dim * sizeof(float));
      }
      graph->add(static_cast<faiss::Index::idx_t>(n), chunk.data());
    }
  } catch (const std::exception& e) {
    return FaissError("vector index: compact", e);
  }
  std::vector<uint32_t> slot_to_doc(live_slots.size());
  std::unordered_map<uint32_t, uint32_t> doc_to_slot;
  doc_to_slot.reserve(live_slots.size());
  for (size_t i = 0; i < live_slots.size(); ++i) {
    slot_to_doc[i] = slot_to_doc_[live_slots[i]];
    doc_to_slot.emplace(slot_to_doc[i], static_cast<uint32_t>(i));
  }
  graph_ = std::move(graph);
  slot_to_doc_ = std::move(slot_to_doc);
  slot_deleted_.assign(slot_to_doc_.size(), 0);
  doc_to_slot_ = std::move(doc_to_slot);
  num_deleted_ = 0;
  return OkStatus();
}

Status VectorIndex::MaybeCompact() {
  if (num_slots() == 0) return OkStatus();
  const double fraction = static_cast<double>(num_deleted_) / static_cast<double>(num_slots());
  if (fraction > options_.compact_deleted_fraction) return Compact();
  return OkStatus();
}

// ---------------------------------------------------------------- reads

StatusOr<std::vector<float>> VectorIndex::Get(uint32_t doc) const {
  auto it = doc_to_slot_.find(doc);
  if (it == doc_to_slot_.end()) {
    return NotFoundError("vector index: doc " + std::to_string(doc) + " has no vector");
  }
  const float* v = SlotVector(it->second);
  return std::vector<float>(v, v + options_.dim);
}

std::vector<VectorHit> VectorIndex::ExactSearch(const float* query, size_t k,
                                                const std::vector<uint8_t>* allow) const {
  // Min-heap on quality: the worst kept hit on top.
  auto worse_on_top = [](const VectorHit& a, const VectorHit& b) { return Better(a, b); };
  std::priority_queue<VectorHit, std::vector<VectorHit>, decltype(worse_on_top)> heap(worse_on_top);
  const size_t dim = static_cast<size_t>(options_.dim);
  const float* data = StorageData(*graph_);
  for (size_t s = 0; s < num_slots(); ++s) {
    if (slot_deleted_[s] != 0) continue;
    const uint32_t doc = slot_to_doc_[s];
    if (allow != nullptr && (doc >= allow->size() || (*allow)[doc] == 0)) continue;
    const VectorHit hit{doc, faiss::fvec_inner_product(query, data + s * dim, dim)};
    if (heap.size() < k) {
      heap.push(hit);
    } else if (Better(hit, heap.top())) {
      heap.pop();
      heap.push(hit);
    }
  }
  std::vector<VectorHit> hits;
  hits.reserve(heap.size());
  while (!heap.empty()) {
    hits.push_back(heap.top());
    heap.pop();
  }
  std::reverse(hits.begin(), hits.end());
  return hits;
}

StatusOr<std::vector<VectorHit>> VectorIndex::GraphSearch(const float* query, size_t k, int ef,
                                                          const std::vector<uint8_t>* allow) const {
  std::vector<float> scores(k);
  std::vector<faiss::Index::idx_t> labels(k, -1);
  SlotSelector selector(slot_deleted_, slot_to_doc_, allow);
  faiss::SearchParametersHNSW params;
  params.efSearch = ef;
  params.sel = (allow != nullptr || num_deleted_ > 0) ? &selector : nullptr;
  try {
    SingleThreadedOpenMp one_thread;
    graph_->search(1, query, static_cast<faiss::Index::idx_t>(k), scores.data(), labels.data(),
                   &params);
  } catch (const std::exception& e) {
    return FaissError("vector index: search", e);
  }
  std::vector<VectorHit> hits;
  hits.reserve(k);
  for (size_t i = 0; i < k; ++i) {
    if (labels[i] < 0 || static_cast<size_t>(labels[i]) >= num_slots()) continue;
    const auto slot = static_cast<size_t>(labels[i]);
    if (slot_deleted_[slot] != 0) continue;  // the selector already excludes these
    hits.push_back({slot_to_doc_[slot], scores[i]});
  }
  std::sort(hits.begin(), hits.end(), Better);
  return hits;
}

StatusOr<std::vector<VectorHit>> VectorIndex::Search(const VectorQuery& q) const {
  if (q.vector == nullptr) return InvalidArgumentError("vector search: query vector is null");
  if (q.k == 0 || q.k > kMaxK) {
    return InvalidArgumentError("vector search: k must be in 1.." + std::to_string(kMaxK) +
                                ", got " + std::to_string(q.k));
  }
  if (q.ef_search < 0) {
    return InvalidArgumentError("vector search: ef_search must be >= 0, got " +
                                std::to_string(q.ef_search));
  }
  std::vector<float> query(static_cast<size_t>(options_.dim));
  RETURN_IF_ERROR(NormalizeInto(q.vector, options_.dim, query.data(), "vector search: query"));

  const size_t live = size();
  // Docs the search may return (an upper bound when the filter names docs not in the index).
  size_t eligible = live;
  if (q.allow != nullptr) {
    const auto allowed = static_cast<size_t>(
        std::count_if(q.allow->begin(), q.allow->end(), [](uint8_t b) { return b != 0; }));
    eligible = std::min(eligible, allowed);
  }
  VectorSearchInfo local_info;
  VectorSearchInfo& info = q.info != nullptr ? *q.info : local_info;
  info = VectorSearchInfo{VectorSearchPath::kExact, eligible, 0};
  if (eligible == 0) return std::vector<VectorHit>{};
  const size_t k = std::min(q.k, eligible);
  int ef = std::max(q.ef_search > 0 ? q.ef_search : options_.ef_search, static_cast<int>(k));

  // Exact when asked, when small, or when a filtered walk would cost more than
  // brute force or lose recall: see the rule in the header.
  bool exact = q.exact || live < options_.exact_below;
  const bool filtered = q.allow != nullptr || num_deleted_ > 0;
  if (!exact && filtered) {
    const double p = static_cast<double>(eligible) / static_cast<double>(num_slots());
    const double widened = std::min(static_cast<double>(kMaxEf), std::ceil(ef / p));
    exact = p < kSelectiveFraction || static_cast<double>(eligible) <= widened * options_.hnsw_m;
    ef = std::max(ef, static_cast<int>(widened));
  }
  if (exact) return ExactSearch(query.data(), k, q.allow);

  info.path = VectorSearchPath::kGraph;
  info.ef_search = ef;
  ASSIGN_OR_RETURN(std::vector<VectorHit> hits, GraphSearch(query.data(), k, ef, q.allow));
  if (hits.size() < k) {  // the walk ran dry (or `eligible` overestimated)
    info.path = VectorSearchPath::kGraphThenExact;
    return ExactSearch(query.data(), k, q.allow);
  }
  return hits;
}

// ---------------------------------------------------------------- files

Status VectorIndex::Save(const std::string& dir) const {
  const fs::path folder(dir);
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) {
    return InternalError("vector index: cannot create folder " + dir + ": " + ec.message());
  }
  const std::string suffix = RandomSuffix();

  // 1. The Faiss file, named after its checksum.
  TempFile faiss_tmp(folder / ("vectors.faiss" + suffix));
  if (faiss_tmp.get() == nullptr) {
    return InternalError("vector index: cannot create " + faiss_tmp.path().string() + ": " +
                         std::strerror(errno));
  }
  HashingFileWriter writer(faiss_tmp.get());
  try {
    faiss::write_index(graph_.get(), &writer);
  } catch (const std::exception& e) {
    return FaissError("vector index: write " + faiss_tmp.path().string(), e);
  }
  char name[64];
  std::snprintf(name, sizeof(name), "vectors-%016llx.faiss",
                static_cast<unsigned long long>(writer.hash()));
  RETURN_IF_ERROR(faiss_tmp.CommitAs(folder / name));

  // 2. The header, renamed last: it is what makes the new Faiss file current.
  ByteWriter w;
  w.PutBytes(kMagic, sizeof(kMagic));
  w.Put<uint32_t>(kFormatVersion);
  w.Put<uint32_t>(static_cast<uint32_t>(options_.dim));
  w.Put<int32_t>(options_.hnsw_m);
  w.Put<int32_t>(options_.ef_construction);
  w.Put<int32_t>(options_.ef_search);
  w.Put<uint64_t>(options_.exact_below);
  w.Put<double>(options_.compact_deleted_fraction);
  w.Put<uint64_t>(num_slots());
  w.Put<uint64_t>(num_deleted_);
  w.Put<uint64_t>(writer.bytes());
  w.Put<uint64_t>(writer.hash());
  const std::string name_str(name);
  w.Put<uint32_t>(static_cast<uint32_t>(name_str.size()));
  w.PutBytes(name_str.data(), name_str.size());
  w.PutBytes(slot_to_doc_.data(), slot_to_doc_.size() * sizeof(uint32_t));
  w.PutBytes(slot_deleted_.data(), slot_deleted_.size());
  Fnv64 trailer;
  trailer.Update(w.buf().data(), w.buf().size());
  w.Put<uint64_t>(trailer.value());

  TempFile meta_tmp(folder / (std::string(kMetaFileName) + suffix));
  if (meta_tmp.get() == nullptr) {
    return InternalError("vector index: cannot create " + meta_tmp.path().string() + ": " +
                         std::strerror(errno));
  }
  if (std::fwrite(w.buf().data(), 1, w.buf().size(), meta_tmp.get()) != w.buf().size()) {
    return ResourceExhaustedError("vector index: cannot write " + meta_tmp.path().string() + ": " +
                                  std::strerror(errno));
  }
  RETURN_IF_ERROR(meta_tmp.CommitAs(folder / kMetaFileName));
  SyncDir(folder);

  // 3. Best effort: drop Faiss files of earlier saves.
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string f = entry.path().filename().string();
    if (f != name_str && f.starts_with("vectors-") && f.ends_with(".faiss")) {
      std::error_code ignored;
      fs::remove(entry.path(), ignored);
    }
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<VectorIndex>> VectorIndex::Load(const std::string& dir) {
  const fs::path folder(dir);
  const fs::path meta_path = folder / kMetaFileName;
  std::error_code ec;
  if (!fs::is_regular_file(meta_path, ec)) {
    return NotFoundError("vector index: no " + std::string(kMetaFileName) + " in " + dir);
  }
  const std::string where = "vector index header " + meta_path.string();

  std::string meta;
  {
    FILE* f = std::fopen(meta_path.c_str(), "rb");
    if (f == nullptr) return DataLossError(where + ": cannot open: " + std::strerror(errno));
    char buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) meta.append(buf, n);
    const bool err = std::ferror(f) != 0;
    std::fclose(f);
    if (err) return DataLossError(where + ": read error");
  }
  if (meta.size() < sizeof(kMagic) + sizeof(uint32_t) ||
      std::memcmp(meta.data(), kMagic, sizeof(kMagic)) != 0) {
    return DataLossError(where + ": not a Souk vector index header (bad magic or empty)");
  }
  uint32_t version = 0;
  std::memcpy(&version, meta.data() + sizeof(kMagic), sizeof(version));
  if (version != kFormatVersion) {
    return FailedPreconditionError(where + ": format version " + std::to_string(version) +
                                   " is not supported (this build reads version " +
                                   std::to_string(kFormatVersion) + "); rebuild the index");
  }
  if (meta.size() < sizeof(kMagic) + sizeof(uint32_t) + sizeof(uint64_t)) {
    return DataLossError(where + ": truncated");
  }
  {
    uint64_t stored = 0;
    std::memcpy(&stored, meta.data() + meta.size() - sizeof(uint64_t), sizeof(stored));
    Fnv64 h;
    h.Update(meta.data(), meta.size() - sizeof(uint64_t));
    if (h.value() != stored) {
      return DataLossError(where + ": checksum mismatch (truncated or corrupted)");
    }
  }

  ByteReader r(std::string_view(meta).substr(0, meta.size() - sizeof(uint64_t)), where);
  char magic[sizeof(kMagic)];
  RETURN_IF_ERROR(r.GetBytes(magic, sizeof(magic), "magic"));
  RETURN_IF_ERROR(r.Get(&version, "version"));
  VectorIndexOptions o;
  uint32_t dim = 0;
  RETURN_IF_ERROR(r.Get(&dim, "dim"));
  o.dim = static_cast<int>(std::min<uint32_t>(dim, INT_MAX));
  RETURN_IF_ERROR(r.Get(&o.hnsw_m, "hnsw_m"));
  RETURN_IF_ERROR(r.Get(&o.ef_construction, "ef_construction"));
  RETURN_IF_ERROR(r.Get(&o.ef_search, "ef_search"));
  uint64_t exact_below = 0;
  RETURN_IF_ERROR(r.Get(&exact_below, "exact_below"));
  o.exact_below = static_cast<size_t>(exact_below);
  RETURN_IF_ERROR(r.Get(&o.compact_deleted_fraction, "compact_deleted_fraction"));
  if (Status s = ValidateOptions(o); !s.ok()) return DataLossError(where + ": " + s.message());
  uint64_t slots = 0, deleted = 0, faiss_size = 0, faiss_hash = 0;
  uint32_t name_len = 0;
  RETURN_IF_ERROR(r.Get(&slots, "slot count"));
  RETURN_IF_ERROR(r.Get(&deleted, "deleted count"));
  RETURN_IF_ERROR(r.Get(&faiss_size, "faiss file size"));
  RETURN_IF_ERROR(r.Get(&faiss_hash, "faiss file checksum"));
  RETURN_IF_ERROR(r.Get(&name_len, "faiss file name length"));
  if (name_len == 0 || name_len > 255) {
    return DataLossError(where + ": bad faiss file name length " + std::to_string(name_len));
  }
  std::string name(name_len, '\0');
  RETURN_IF_ERROR(r.GetBytes(name.data(), name_len, "faiss file name"));
  if (name.find('/') != std::string::npos || !name.starts_with("vectors-") ||
      !name.ends_with(".faiss")) {
    return DataLossError(where + ": bad faiss file name '" + name + "'");
  }
  if (slots > static_cast<uint64_t>(INT_MAX) || r.remaining() != slots * 5) {
    return DataLossError(where + ": " + std::to_string(slots) + " slots do not match the " +
                         std::to_string(r.remaining()) + " bytes of mapping");
  }
  std::unique_ptr<VectorIndex> index(new VectorIndex(o));
  index->slot_to_doc_.resize(slots);
  index->slot_deleted_.resize(slots);
  RETURN_IF_ERROR(r.GetBytes(index->slot_to_doc_.data(), slots * sizeof(uint32_t), "slot docs"));
  RETURN_IF_ERROR(r.GetBytes(index->slot_deleted_.data(), slots, "deleted slots"));
  index->doc_to_slot_.reserve(slots - std::min(slots, deleted));
  for (uint32_t s = 0; s < slots; ++s) {
    const uint8_t d = index->slot_deleted_[s];
    if (d > 1) return DataLossError(where + ": bad deleted flag at slot " + std::to_string(s));
    if (d == 1) {
      ++index->num_deleted_;
      continue;
    }
    const uint32_t doc = index->slot_to_doc_[s];
    if (doc == kNoDoc || !index->doc_to_slot_.emplace(doc, s).second) {
      return DataLossError(where + ": doc " + std::to_string(doc) + " at slot " +
                           std::to_string(s) + " is invalid or live twice");
    }
  }
  if (index->num_deleted_ != deleted) {
    return DataLossError(where + ": deleted count " + std::to_string(deleted) +
                         " disagrees with the flags (" + std::to_string(index->num_deleted_) + ")");
  }

  // The Faiss file: size and checksum before Faiss parses a byte of it.
  const fs::path faiss_path = folder / name;
  if (!fs::is_regular_file(faiss_path, ec)) {
    return DataLossError("vector index: " + faiss_path.string() +
                         " named by the header is missing");
  }
  ASSIGN_OR_RETURN(auto size_hash, HashFile(faiss_path));
  if (size_hash.first != faiss_size) {
    return DataLossError("vector index: " + faiss_path.string() + " has " +
                         std::to_string(size_hash.first) + " bytes, expected " +
                         std::to_string(faiss_size) + " (truncated or replaced)");
  }
  if (size_hash.second != faiss_hash) {
    return DataLossError("vector index: " + faiss_path.string() + " checksum mismatch (corrupted)");
  }
  std::unique_ptr<faiss::Index> raw;
  try {
    raw.reset(faiss::read_index(faiss_path.c_str()));
  } catch (const std::exception& e) {
    return DataLossError("vector index: cannot parse " + faiss_path.string() + ": " + e.what());
  }
  auto* graph = dynamic_cast<faiss::IndexHNSWFlat*>(raw.get());
  if (graph == nullptr || graph->metric_type != faiss::METRIC_INNER_PRODUCT ||
      dynamic_cast<const faiss::IndexFlat*>(graph->storage) == nullptr) {
    return DataLossError("vector index: " + faiss_path.string() +
                         " is not an inner-product HNSW flat index");
  }
  if (graph->d != o.dim || static_cast<uint64_t>(graph->ntotal) != slots) {
    return DataLossError("vector index: " + faiss_path.string() + " holds " +
                         std::to_string(graph->ntotal) + " vectors of dim " +
                         std::to_string(graph->d) + ", header says " + std::to_string(slots) +
                         " of dim " + std::to_string(o.dim));
  }
  raw.release();
  index->graph_.reset(graph);
  index->graph_->hnsw.efConstruction = o.ef_construction;
  index->graph_->hnsw.efSearch = o.ef_search;
  return index;
}

}  // namespace souk::index
