// VectorIndex: nearest-neighbour search over one dense embedding per document
// (cosine similarity), for semantic retrieval and "similar items".
//
//   ASSIGN_OR_RETURN(auto index, VectorIndex::Create({.dim = 384}));
//   RETURN_IF_ERROR(index->AddBatch(docs, vectors));
//   VectorQuery q{.vector = query.data(), .k = 50, .allow = &in_stock};
//   ASSIGN_OR_RETURN(std::vector<VectorHit> hits, index->Search(q));
//
// Documents are Souk dense ids (uint32, see common/id_map.h). Every vector is
// L2-normalized on the way in, so scores are inner products = cosine similarity
// in [-1, 1]. The engine is a Faiss HNSW graph (IndexHNSWFlat, inner product)
// whose flat storage also serves exact (brute-force) search; Faiss never leaks
// out of this class: its exceptions come back as Status.
//
// Which search runs (VectorIndex::Search):
//   * exact when q.exact, or when fewer than `exact_below` vectors are live;
//   * when the search is filtered (an allow list, or deleted slots not yet
//     compacted), let eligible = min(live, allowed docs) and p = eligible /
//     slots. The graph walk keeps a beam of ef nodes of which only a fraction p
//     may be returned, so it widens the beam to ef / p (capped at kMaxEf) to
//     keep recall. The search is exact when p < 2% (the walk through mostly
//     forbidden nodes loses recall) or when eligible <= (ef / p) * hnsw_m (scoring
//     every eligible doc costs no more than the walk's distance computations);
//   * otherwise HNSW, with the filter and the deleted slots applied inside the
//     graph walk (a Faiss IDSelector), so k results come back even when many
//     neighbours are filtered out. If the walk returns fewer hits than k while
//     more eligible docs may exist, the query is redone exactly.
// VectorQuery::info reports which path ran.
//
// Updates are soft: Upsert of an existing doc and Delete mark the old slot as
// deleted (it still routes graph searches but is never returned). Compact()
// rebuilds the graph from the live vectors; MaybeCompact() does so once
// deleted / total slots exceeds `compact_deleted_fraction`.
//
// Thread-safety: const methods (Search, Get, Contains, size, Save, ...) may run
// concurrently with each other. Upsert, AddBatch, Delete, Compact and
// MaybeCompact need external exclusion against every other call (a
// reader/writer lock, or build a new index and swap a shared_ptr<const>).
//
// Memory: 4 * dim bytes per slot (live or deleted) for the vectors plus about
// 8 * hnsw_m bytes per slot for the graph, plus ~12 bytes per slot of mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/progress.h"
#include "common/status.h"

namespace faiss {
struct IndexHNSWFlat;
}  // namespace faiss

namespace souk::index {

struct VectorIndexOptions {
  int dim = 0;  // required: floats per vector, 1..65536
  // Performance.
  int hnsw_m = 32;             // HNSW graph degree (2..256); higher = better
                               // recall, more memory, slower build
  int ef_construction = 200;   // HNSW build beam width (>= 1)
  int ef_search = 128;         // default search beam width (>= 1); VectorQuery
                               // can override it per query
  size_t exact_below = 20000;  // fewer live vectors than this: exact search
  // Behavior.
  double compact_deleted_fraction = 0.2;  // MaybeCompact() rebuilds above this deleted/total
                                          // fraction of slots; in (0, 1]
};

// One search result. `score` is the inner product of the normalized vectors,
// i.e. the cosine similarity (higher is better).
struct VectorHit {
  uint32_t doc;
  float score;
};

enum class VectorSearchPath {
  kExact,           // brute force over the eligible docs
  kGraph,           // HNSW walk
  kGraphThenExact,  // the walk found fewer than k hits; redone exactly
};

// What a Search() did (for explanations, logs and tests).
struct VectorSearchInfo {
  VectorSearchPath path = VectorSearchPath::kExact;
  size_t eligible = 0;  // min(live, allowed docs): an upper bound on the hits possible
  int ef_search = 0;    // beam width the walk used, after widening for filters (0 when exact)
};

// Per-query parameters. Pointers are borrowed for the duration of Search().
struct VectorQuery {
  const float* vector = nullptr;                // dim floats; normalized by the index (on a
                                                // copy) if not of unit norm; must not be 0
  size_t k = 100;                               // hits wanted, 1..10000
  const std::vector<uint8_t>* allow = nullptr;  // optional filter indexed by doc: nonzero =
                                                // allowed; docs past its end are not allowed.
                                                // Applied during the search, not after.
  int ef_search = 0;                            // 0 = options default; else >= 1 (raised to k)
  bool exact = false;                           // force brute force
  VectorSearchInfo* info = nullptr;             // optional out: which path ran
};

class VectorIndex {
 public:
  // An empty index. InvalidArgument when an option is out of range.
  static StatusOr<std::unique_ptr<VectorIndex>> Create(VectorIndexOptions o);

  // Reads an index written by Save() from folder `dir`. NotFound when the folder
  // holds no index; DataLoss when a file is truncated, corrupted or the files
  // disagree; FailedPrecondition for a format version this build cannot read.
  // Cost: reads the files twice (checksum first, then parse).
  static StatusOr<std::unique_ptr<VectorIndex>> Load(const std::string& dir);

  // Writes the index into folder `dir` (created if missing): a Faiss file named
  // after its checksum, then the header "vector_index.meta" (format version,
  // options, counts, slot->doc mapping, deleted slots, the Faiss file's name,
  // size and checksum). Both are written under temporary names, flushed and
  // renamed, the header last; so a crash leaves either the old or the new index
  // loadable, never a mix. Stale Faiss files of older saves are then removed.
  // Errors: Internal/ResourceExhausted on I/O failure (the old index stays).
  // Two Saves into the same folder must not overlap (the second may remove the
  // first's Faiss file). Cost: writes ~ (4*dim + 8*hnsw_m + 5) bytes per slot.
  Status Save(const std::string& dir) const;

  VectorIndexOptions options() const { return options_; }
  int dim() const { return options_.dim; }

  // Adds or replaces the vector of `doc` (replace = soft-delete the old slot and
  // add a new one). InvalidArgument for a wrong size, NaN/inf or zero vector, or
  // doc == UINT32_MAX. Cost: one HNSW insertion (~ef_construction * hnsw_m
  // distance computations).
  Status Upsert(uint32_t doc, std::span<const float> vec);

  // Upserts docs[i] -> vecs[i*dim .. (i+1)*dim). All-or-nothing validation
  // before any change; a doc repeated in the batch keeps its last vector.
  // Insertion is parallel (OpenMP). `progress` (optional) shows a bar/lines.
  Status AddBatch(std::span<const uint32_t> docs, std::span<const float> vecs,
                  ProgressOptions* progress = nullptr);

  // Soft delete. NotFound when `doc` has no live vector.
  Status Delete(uint32_t doc);

  // Rebuilds the graph from the live vectors only (slots renumbered). Cost: a
  // full build; needs memory for both graphs during the rebuild.
  Status Compact();

  // Compact() when deleted() / (size() + deleted()) > compact_deleted_fraction.
  Status MaybeCompact();

  size_t size() const { return doc_to_slot_.size(); }  // live vectors
  size_t deleted() const { return num_deleted_; }      // deleted slots not yet compacted
  bool Contains(uint32_t doc) const { return doc_to_slot_.count(doc) != 0; }

  // The k best live (and allowed) docs, best first (ties: smaller doc first).
  // Fewer than k when fewer docs qualify. InvalidArgument for a null, zero or
  // non-finite vector, k == 0 or k > 10000, ef_search < 0.
  StatusOr<std::vector<VectorHit>> Search(const VectorQuery& q) const;

  // The stored (normalized) vector of `doc`, copied. NotFound when absent.
  StatusOr<std::vector<float>> Get(uint32_t doc) const;

  ~VectorIndex();
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  static constexpr size_t kMaxK = 10000;
  static constexpr int kMaxEf = 16384;  // cap of the widened beam of filtered walks
  static constexpr uint32_t kFormatVersion = 1;
  static constexpr const char* kMetaFileName = "vector_index.meta";

 private:
  explicit VectorIndex(VectorIndexOptions o);

  // A fresh, empty HNSW graph configured from options_.
  std::unique_ptr<faiss::IndexHNSWFlat> NewGraph() const;
  // Appends already validated, normalized vectors to the graph and maps them.
  Status AppendNormalized(std::span<const uint32_t> docs, const float* vecs, Progress* progress);
  // Marks `slot` deleted (the caller removes the doc mapping).
  void MarkDeleted(uint32_t slot);
  const float* SlotVector(uint32_t slot) const;
  size_t num_slots() const { return slot_to_doc_.size(); }

  std::vector<VectorHit> ExactSearch(const float* query, size_t k,
                                     const std::vector<uint8_t>* allow) const;
  StatusOr<std::vector<VectorHit>> GraphSearch(const float* query, size_t k, int ef,
                                               const std::vector<uint8_t>* allow) const;

  VectorIndexOptions options_;
  std::unique_ptr<faiss::IndexHNSWFlat> graph_;         // slot i = Faiss label i
  std::vector<uint32_t> slot_to_doc_;                   // one entry per graph slot
  std::vector<uint8_t> slot_deleted_;                   // 1 = soft-deleted slot
  std::unordered_map<uint32_t, uint32_t> doc_to_slot_;  // live docs only
  size_t num_deleted_ = 0;
};

}  // namespace souk::index
