// Tests of VectorIndex against a brute-force reference computed here.
// Built twice: the fast unit suite (vector_index_test) and, with
// SOUK_VECTOR_INDEX_SLOW_TESTS, the recall suite on 50k vectors
// (vector_index_recall_test, label `slow`).
#include "index/vector_index.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/testing.h"

namespace souk::index {
namespace {

namespace fs = std::filesystem;

// n vectors of `dim` floats around `clusters` Gaussian centers (clusters == 0:
// isotropic). The centers depend only on (dim, clusters), so data and queries
// drawn with different seeds come from the same distribution.
std::vector<float> MakeVectors(size_t n, int dim, int clusters, uint32_t seed,
                               float spread = 0.5f) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::mt19937 center_rng(static_cast<uint32_t>(dim * 7919 + clusters));
  std::vector<float> centers(static_cast<size_t>(std::max(clusters, 1)) * dim);
  for (float& c : centers) c = clusters > 0 ? normal(center_rng) : 0.0f;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pick(0, std::max(clusters, 1) - 1);
  if (clusters == 0) spread = 1.0f;
  std::vector<float> out(n * dim);
  for (size_t i = 0; i < n; ++i) {
    const float* c = centers.data() + static_cast<size_t>(pick(rng)) * dim;
    for (int j = 0; j < dim; ++j) out[i * dim + j] = c[j] + spread * normal(rng);
  }
  return out;
}

std::vector<uint32_t> Iota(size_t n, uint32_t first = 0) {
  std::vector<uint32_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = first + static_cast<uint32_t>(i);
  return v;
}

double Cosine(const float* a, const float* b, int dim) {
  double ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < dim; ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

struct RefHit {
  uint32_t doc;
  double score;
};

// Brute-force top-k over docs[i] -> vecs[i], honoring `allow` (nullptr = all).
[[maybe_unused]] std::vector<RefHit> BruteForce(const std::vector<float>& vecs,
                                                const std::vector<uint32_t>& docs, int dim,
                                                const float* query, size_t k,
                                                const std::vector<uint8_t>* allow = nullptr) {
  std::vector<RefHit> all;
  for (size_t i = 0; i < docs.size(); ++i) {
    const uint32_t d = docs[i];
    if (allow != nullptr && (d >= allow->size() || (*allow)[d] == 0)) continue;
    all.push_back({d, Cosine(query, vecs.data() + i * dim, dim)});
  }
  std::sort(all.begin(), all.end(), [](const RefHit& a, const RefHit& b) {
    return a.score != b.score ? a.score > b.score : a.doc < b.doc;
  });
  if (all.size() > k) all.resize(k);
  return all;
}

// Score of every doc against `query`.
[[maybe_unused]] std::unordered_map<uint32_t, double> AllScores(const std::vector<float>& vecs,
                                                                const std::vector<uint32_t>& docs,
                                                                int dim, const float* query) {
  std::unordered_map<uint32_t, double> m;
  for (size_t i = 0; i < docs.size(); ++i) m[docs[i]] = Cosine(query, vecs.data() + i * dim, dim);
  return m;
}

// The hits are a correct top-k: rank by rank the same scores as the reference,
// and each hit's score is the true score of its doc.
[[maybe_unused]] void ExpectExactTopK(const std::vector<VectorHit>& hits,
                                      const std::vector<RefHit>& ref,
                                      const std::unordered_map<uint32_t, double>& truth) {
  ASSERT_EQ(hits.size(), ref.size());
  std::set<uint32_t> seen;
  for (size_t i = 0; i < hits.size(); ++i) {
    EXPECT_NEAR(hits[i].score, ref[i].score, 1e-5) << "rank " << i;
    ASSERT_TRUE(truth.count(hits[i].doc)) << "unknown doc " << hits[i].doc;
    EXPECT_NEAR(hits[i].score, truth.at(hits[i].doc), 1e-5) << "doc " << hits[i].doc;
    EXPECT_TRUE(seen.insert(hits[i].doc).second) << "doc twice: " << hits[i].doc;
    if (i > 0) {
      EXPECT_GE(hits[i - 1].score, hits[i].score);
    }
  }
}

double Recall(const std::vector<VectorHit>& got, const std::vector<VectorHit>& want) {
  if (want.empty()) return 1.0;
  std::set<uint32_t> w;
  for (const auto& h : want) w.insert(h.doc);
  size_t found = 0;
  for (const auto& h : got) found += w.count(h.doc);
  return static_cast<double>(found) / static_cast<double>(want.size());
}

std::unique_ptr<VectorIndex> MakeIndex(VectorIndexOptions o) {
  auto index = VectorIndex::Create(o);
  EXPECT_OK(index);
  return index.ok() ? std::move(index).value() : nullptr;
}

#ifndef SOUK_VECTOR_INDEX_SLOW_TESTS

TEST(VectorIndexTest, CreateRejectsBadOptions) {
  EXPECT_EQ(VectorIndex::Create({}).status().code(), StatusCode::kInvalidArgument);  // dim 0
  EXPECT_EQ(VectorIndex::Create({.dim = -3}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VectorIndex::Create({.dim = 8, .compact_deleted_fraction = 0.0}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(VectorIndex::Create({.dim = 8, .hnsw_m = 1}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(VectorIndex::Create({.dim = 8, .ef_search = 0}).status().code(),
            StatusCode::kInvalidArgument);
  auto ok = VectorIndex::Create({.dim = 8});
  ASSERT_OK(ok);
  EXPECT_EQ((*ok)->dim(), 8);
  EXPECT_EQ((*ok)->size(), 0u);
}

TEST(VectorIndexTest, EmptyIndexReturnsNoHits) {
  auto index = MakeIndex({.dim = 4});
  const float q[4] = {1, 0, 0, 0};
  auto hits = index->Search({.vector = q, .k = 5});
  ASSERT_OK(hits);
  EXPECT_TRUE(hits->empty());
}

TEST(VectorIndexTest, ExactSearchMatchesBruteForce) {
  constexpr int kDim = 32;
  const auto vecs = MakeVectors(2000, kDim, 0, 1);
  const auto docs = Iota(2000, 100);      // docs 100..2099
  auto index = MakeIndex({.dim = kDim});  // 2000 < exact_below: exact path
  ASSERT_OK(index->AddBatch(docs, vecs));
  EXPECT_EQ(index->size(), 2000u);
  const auto queries = MakeVectors(20, kDim, 0, 2);
  for (int qi = 0; qi < 20; ++qi) {
    const float* q = queries.data() + qi * kDim;
    for (size_t k : {1u, 10u, 100u}) {
      auto hits = index->Search({.vector = q, .k = k});
      ASSERT_OK(hits);
      ExpectExactTopK(*hits, BruteForce(vecs, docs, kDim, q, k), AllScores(vecs, docs, kDim, q));
    }
  }
}

TEST(VectorIndexTest, UnnormalizedQueryGivesCosineScores) {
  auto index = MakeIndex({.dim = 3});
  const float a[3] = {3, 0, 0}, b[3] = {1, 1, 0};
  ASSERT_OK(index->Upsert(1, a));
  ASSERT_OK(index->Upsert(2, b));
  const float q[3] = {10, 10, 0};
  auto hits = index->Search({.vector = q, .k = 5});
  ASSERT_OK(hits);
  ASSERT_EQ(hits->size(), 2u);  // k is capped by what exists
  EXPECT_EQ((*hits)[0].doc, 2u);
  EXPECT_NEAR((*hits)[0].score, 1.0, 1e-6);
  EXPECT_EQ((*hits)[1].doc, 1u);
  EXPECT_NEAR((*hits)[1].score, std::sqrt(0.5), 1e-6);
  auto stored = index->Get(1);
  ASSERT_OK(stored);
  EXPECT_EQ(*stored, (std::vector<float>{1, 0, 0}));
}

TEST(VectorIndexTest, HnswSearchIsCloseToBruteForce) {
  constexpr int kDim = 16;
  const auto vecs = MakeVectors(3000, kDim, 20, 3);
  const auto docs = Iota(3000);
  auto index = MakeIndex({.dim = kDim, .exact_below = 0});  // always the graph
  ASSERT_OK(index->AddBatch(docs, vecs));
  const auto queries = MakeVectors(50, kDim, 20, 4);
  double recall = 0;
  for (int qi = 0; qi < 50; ++qi) {
    const float* q = queries.data() + qi * kDim;
    VectorSearchInfo info;
    auto hits = index->Search({.vector = q, .k = 10, .info = &info});
    ASSERT_OK(hits);
    ASSERT_EQ(hits->size(), 10u);
    EXPECT_EQ(info.path, VectorSearchPath::kGraph);
    EXPECT_EQ(info.ef_search, 128);
    const auto truth = AllScores(vecs, docs, kDim, q);
    for (size_t i = 0; i < hits->size(); ++i) {
      EXPECT_NEAR((*hits)[i].score, truth.at((*hits)[i].doc), 1e-5);
      if (i > 0) {
        EXPECT_GE((*hits)[i - 1].score, (*hits)[i].score);
      }
    }
    auto exact = index->Search({.vector = q, .k = 10, .exact = true});
    ASSERT_OK(exact);
    ExpectExactTopK(*exact, BruteForce(vecs, docs, kDim, q, 10), truth);
    recall += Recall(*hits, *exact);
  }
  EXPECT_GE(recall / 50, 0.98);
}

TEST(VectorIndexTest, FilteredSearchReturnsOnlyAllowedDocs) {
  constexpr int kDim = 16;
  constexpr size_t kN = 4000;
  const auto vecs = MakeVectors(kN, kDim, 20, 5);
  const auto docs = Iota(kN);
  const auto queries = MakeVectors(30, kDim, 20, 6);
  std::mt19937 rng(7);
  // Half the docs allowed (graph path), 1% allowed (selective: exact path), and a
  // bitmap shorter than the doc range (docs past its end are not allowed).
  std::vector<uint8_t> half(kN), sparse(kN), short_map(kN * 3 / 5, 1);
  for (size_t d = 0; d < kN; ++d) {
    half[d] = (rng() % 2) != 0;
    sparse[d] = (rng() % 100) == 0;
  }
  for (bool graph : {true, false}) {
    // Small beam and degree so that the half and short filters take the graph path.
    auto index = MakeIndex({.dim = kDim,
                            .hnsw_m = 16,
                            .ef_construction = 64,
                            .ef_search = 32,
                            .exact_below = graph ? 0u : 1000000u});
    ASSERT_OK(index->AddBatch(docs, vecs));
    for (const std::vector<uint8_t>* allow : {&half, &sparse, &short_map}) {
      double recall = 0;
      for (int qi = 0; qi < 30; ++qi) {
        const float* q = queries.data() + qi * kDim;
        VectorSearchInfo info;
        auto hits = index->Search({.vector = q, .k = 20, .allow = allow, .info = &info});
        ASSERT_OK(hits);
        if (graph && allow != &sparse) {
          EXPECT_NE(info.path, VectorSearchPath::kExact);
        } else {
          EXPECT_EQ(info.path, VectorSearchPath::kExact);
        }
        for (const auto& h : *hits) {
          ASSERT_LT(h.doc, allow->size());
          EXPECT_NE((*allow)[h.doc], 0) << "doc " << h.doc << " is filtered out";
        }
        const auto ref = BruteForce(vecs, docs, kDim, q, 20, allow);
        ASSERT_EQ(hits->size(), ref.size());
        if (!graph || allow == &sparse) {
          // Exact path (forced, or chosen because the filter is selective).
          ExpectExactTopK(*hits, ref, AllScores(vecs, docs, kDim, q));
        }
        std::vector<VectorHit> want;
        for (const auto& r : ref) want.push_back({r.doc, static_cast<float>(r.score)});
        recall += Recall(*hits, want);
      }
      EXPECT_GE(recall / 30, 0.95) << "graph=" << graph;
    }
    std::vector<uint8_t> none(kN, 0);
    auto empty = index->Search({.vector = queries.data(), .k = 5, .allow = &none});
    ASSERT_OK(empty);
    EXPECT_TRUE(empty->empty());
  }
}

TEST(VectorIndexTest, UpsertReplacesTheOldVector) {
  auto index = MakeIndex({.dim = 4, .exact_below = 0});
  const float a[4] = {1, 0, 0, 0}, b[4] = {0, 1, 0, 0}, c[4] = {0, 0, 1, 0};
  ASSERT_OK(index->Upsert(5, a));
  ASSERT_OK(index->Upsert(6, c));
  ASSERT_OK(index->Upsert(5, b));
  EXPECT_EQ(index->size(), 2u);
  EXPECT_EQ(index->deleted(), 1u);
  auto got = index->Get(5);
  ASSERT_OK(got);
  EXPECT_EQ(*got, std::vector<float>(b, b + 4));
  for (bool exact : {false, true}) {
    auto hits = index->Search({.vector = a, .k = 10, .exact = exact});
    ASSERT_OK(hits);
    ASSERT_EQ(hits->size(), 2u);  // the old vector of doc 5 is gone
    EXPECT_NEAR((*hits)[0].score, 0.0, 1e-6);
    EXPECT_NEAR((*hits)[1].score, 0.0, 1e-6);
    auto on_b = index->Search({.vector = b, .k = 1, .exact = exact});
    ASSERT_OK(on_b);
    ASSERT_EQ(on_b->size(), 1u);
    EXPECT_EQ((*on_b)[0].doc, 5u);
    EXPECT_NEAR((*on_b)[0].score, 1.0, 1e-6);
  }
}

TEST(VectorIndexTest, DeleteHidesTheDocAndIsNotFoundTwice) {
  constexpr int kDim = 8;
  const auto vecs = MakeVectors(2000, kDim, 5, 8);
  const auto docs = Iota(2000);
  // Half the slots deleted, beam widened to 64: 64 * hnsw_m = 512 < 1000 live, so
  // searches walk the graph.
  auto index = MakeIndex(
      {.dim = kDim, .hnsw_m = 8, .ef_construction = 64, .ef_search = 32, .exact_below = 0});
  ASSERT_OK(index->AddBatch(docs, vecs));
  // Delete every even doc; searching with an even doc's own vector must not return it.
  for (uint32_t d = 0; d < 2000; d += 2) ASSERT_OK(index->Delete(d));
  EXPECT_EQ(index->size(), 1000u);
  EXPECT_EQ(index->deleted(), 1000u);
  EXPECT_FALSE(index->Contains(10));
  EXPECT_TRUE(index->Contains(11));
  EXPECT_EQ(index->Delete(10).code(), StatusCode::kNotFound);
  EXPECT_EQ(index->Get(10).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(index->Delete(9999).code(), StatusCode::kNotFound);
  for (bool exact : {false, true}) {
    for (uint32_t d = 0; d < 2000; d += 50) {
      VectorSearchInfo info;
      auto hits =
          index->Search({.vector = vecs.data() + d * kDim, .k = 30, .exact = exact, .info = &info});
      ASSERT_OK(hits);
      EXPECT_EQ(hits->size(), 30u);
      EXPECT_EQ(info.path, exact ? VectorSearchPath::kExact : VectorSearchPath::kGraph);
      for (const auto& h : *hits) EXPECT_EQ(h.doc % 2, 1u) << "deleted doc " << h.doc;
    }
  }
  // Re-adding a deleted doc brings it back.
  ASSERT_OK(index->Upsert(10, std::span<const float>(vecs.data() + 10 * kDim, kDim)));
  auto back = index->Search({.vector = vecs.data() + 10 * kDim, .k = 1, .exact = true});
  ASSERT_OK(back);
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].doc, 10u);
}

TEST(VectorIndexTest, CompactDropsDeletedSlotsAndKeepsResults) {
  constexpr int kDim = 8;
  const auto vecs = MakeVectors(1000, kDim, 5, 9);
  const auto docs = Iota(1000);
  auto index = MakeIndex({.dim = kDim, .exact_below = 0, .compact_deleted_fraction = 0.25});
  ASSERT_OK(index->AddBatch(docs, vecs));
  for (uint32_t d = 0; d < 200; ++d) ASSERT_OK(index->Delete(d));  // 20% of slots
  ASSERT_OK(index->MaybeCompact());
  EXPECT_EQ(index->deleted(), 200u) << "below the fraction: no compaction";
  const auto q = MakeVectors(1, kDim, 5, 10);
  auto before = index->Search({.vector = q.data(), .k = 50, .exact = true});
  ASSERT_OK(before);
  for (uint32_t d = 200; d < 300; ++d) ASSERT_OK(index->Delete(d));  // now 30%
  before = index->Search({.vector = q.data(), .k = 50, .exact = true});
  ASSERT_OK(before);
  ASSERT_OK(index->MaybeCompact());
  EXPECT_EQ(index->deleted(), 0u);
  EXPECT_EQ(index->size(), 700u);
  EXPECT_FALSE(index->Contains(150));
  EXPECT_TRUE(index->Contains(300));
  auto after = index->Search({.vector = q.data(), .k = 50, .exact = true});
  ASSERT_OK(after);
  ASSERT_EQ(after->size(), before->size());
  for (size_t i = 0; i < after->size(); ++i) {
    EXPECT_EQ((*after)[i].doc, (*before)[i].doc);
    EXPECT_FLOAT_EQ((*after)[i].score, (*before)[i].score);
  }
  auto graph = index->Search({.vector = q.data(), .k = 50});
  ASSERT_OK(graph);
  EXPECT_GE(Recall(*graph, *after), 0.9);
  for (const auto& h : *graph) EXPECT_GE(h.doc, 300u);
  auto v = index->Get(999);
  ASSERT_OK(v);
  EXPECT_NEAR(Cosine(v->data(), vecs.data() + 999 * kDim, kDim), 1.0, 1e-6);
}

TEST(VectorIndexTest, AddBatchKeepsTheLastDuplicateAndValidatesFirst) {
  auto index = MakeIndex({.dim = 2});
  const std::vector<uint32_t> docs = {1, 2, 1};
  const std::vector<float> vecs = {1, 0, 0, 1, -1, 0};
  ASSERT_OK(index->AddBatch(docs, vecs));
  EXPECT_EQ(index->size(), 2u);
  EXPECT_EQ(index->deleted(), 0u);  // the first copy of doc 1 never took a slot
  EXPECT_EQ(*index->Get(1), (std::vector<float>{-1, 0}));

  // A bad row anywhere rejects the whole batch before any change.
  const std::vector<uint32_t> docs2 = {3, 4, 5};
  const std::vector<float> bad = {1, 1, 2, 2, NAN, 0};
  const Status s = index->AddBatch(docs2, bad);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("row 2"), std::string::npos) << s.message();
  EXPECT_EQ(index->size(), 2u);
  EXPECT_FALSE(index->Contains(3));
  const std::vector<float> short_vecs = {1, 1, 2};
  EXPECT_EQ(index->AddBatch(docs2, short_vecs).code(), StatusCode::kInvalidArgument);

  ProgressOptions quiet{.mode = ProgressMode::kOff};
  const std::vector<float> good = {1, 1, 2, 2, 3, 1};
  ASSERT_OK(index->AddBatch(docs2, good, &quiet));
  EXPECT_EQ(index->size(), 5u);
}

TEST(VectorIndexTest, RejectsBadVectorsAndQueries) {
  auto index = MakeIndex({.dim = 3});
  const float ok[3] = {1, 2, 3};
  const float two[2] = {1, 2};
  const float nan[3] = {1, NAN, 3};
  const float inf[3] = {1, INFINITY, 3};
  const float zero[3] = {0, 0, 0};
  EXPECT_EQ(index->Upsert(1, two).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Upsert(1, nan).code(), StatusCode::kInvalidArgument);
  const Status s = index->Upsert(7, inf);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("doc 7"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("component 1"), std::string::npos) << s.message();
  EXPECT_EQ(index->Upsert(1, zero).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Upsert(UINT32_MAX, ok).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index->size(), 0u);
  ASSERT_OK(index->Upsert(1, ok));

  EXPECT_EQ(index->Search({.vector = nullptr}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Search({.vector = ok, .k = 0}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Search({.vector = ok, .k = 10001}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Search({.vector = nan}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Search({.vector = inf}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Search({.vector = zero}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index->Search({.vector = ok, .ef_search = -1}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_OK(index->Search({.vector = ok, .k = 10000}));
}

TEST(VectorIndexTest, ConcurrentSearchesAgreeWithSequential) {
  constexpr int kDim = 16;
  const auto vecs = MakeVectors(3000, kDim, 10, 11);
  auto index = MakeIndex(
      {.dim = kDim, .hnsw_m = 16, .ef_construction = 64, .ef_search = 64, .exact_below = 0});
  ASSERT_OK(index->AddBatch(Iota(3000), vecs));
  for (uint32_t d = 0; d < 3000; d += 7) ASSERT_OK(index->Delete(d));
  const auto queries = MakeVectors(40, kDim, 10, 12);
  std::vector<std::vector<VectorHit>> expected(40);
  for (int i = 0; i < 40; ++i) {
    auto hits = index->Search({.vector = queries.data() + i * kDim, .k = 10, .exact = i % 2 == 0});
    ASSERT_OK(hits);
    expected[i] = *hits;
  }
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 5; ++rep) {
        for (int i = 0; i < 40; ++i) {
          auto hits =
              index->Search({.vector = queries.data() + i * kDim, .k = 10, .exact = i % 2 == 0});
          if (!hits.ok() || hits->size() != expected[i].size()) {
            ++mismatches[t];
            continue;
          }
          for (size_t j = 0; j < hits->size(); ++j) {
            if ((*hits)[j].doc != expected[i][j].doc) ++mismatches[t];
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

// ---------------------------------------------------------------- files

std::unique_ptr<VectorIndex> BuildForFiles(std::vector<float>* vecs) {
  constexpr int kDim = 12;
  *vecs = MakeVectors(1500, kDim, 8, 13);
  auto index = MakeIndex({.dim = kDim, .hnsw_m = 16, .ef_search = 64, .exact_below = 0});
  EXPECT_OK(index->AddBatch(Iota(1500, 1000), *vecs));
  for (uint32_t d = 1000; d < 1100; ++d) EXPECT_OK(index->Delete(d));
  return index;
}

std::vector<fs::path> FaissFiles(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".faiss") out.push_back(e.path());
  }
  return out;
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(s.data(), static_cast<std::streamsize>(s.size()));
}

uint64_t Fnv64(const char* p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<uint8_t>(p[i]);
    h *= 0x100000001b3ULL;
  }
  return h;
}

TEST(VectorIndexFilesTest, SaveLoadRoundTrip) {
  std::vector<float> vecs;
  auto index = BuildForFiles(&vecs);
  const fs::path dir = souk::testing::TempDir("vector_roundtrip") / "idx";
  ASSERT_OK(index->Save(dir.string()));
  auto loaded = VectorIndex::Load(dir.string());
  ASSERT_OK(loaded);
  VectorIndex& l = **loaded;
  EXPECT_EQ(l.dim(), 12);
  EXPECT_EQ(l.size(), index->size());
  EXPECT_EQ(l.deleted(), index->deleted());
  EXPECT_EQ(l.options().hnsw_m, 16);
  EXPECT_EQ(l.options().ef_search, 64);
  EXPECT_EQ(l.options().exact_below, 0u);
  EXPECT_FALSE(l.Contains(1050));
  EXPECT_TRUE(l.Contains(1200));
  EXPECT_EQ(*l.Get(1200), *index->Get(1200));
  const auto queries = MakeVectors(10, 12, 8, 14);
  for (int i = 0; i < 10; ++i) {
    for (bool exact : {false, true}) {
      VectorSearchInfo info;
      VectorQuery q{.vector = queries.data() + i * 12, .k = 15, .exact = exact};
      auto a = index->Search(q);
      q.info = &info;
      auto b = l.Search(q);
      ASSERT_OK(a);
      ASSERT_OK(b);
      EXPECT_EQ(info.path, exact ? VectorSearchPath::kExact : VectorSearchPath::kGraph);
      ASSERT_EQ(a->size(), b->size());
      for (size_t j = 0; j < a->size(); ++j) {
        EXPECT_EQ((*a)[j].doc, (*b)[j].doc);
        EXPECT_FLOAT_EQ((*a)[j].score, (*b)[j].score);
      }
    }
  }
  // The loaded index keeps working and saves again over the same folder, which
  // then holds exactly one Faiss file (the old one is removed).
  ASSERT_OK(l.Upsert(5, std::span<const float>(vecs.data(), 12)));
  ASSERT_OK(l.Save(dir.string()));
  EXPECT_EQ(FaissFiles(dir).size(), 1u);
  auto again = VectorIndex::Load(dir.string());
  ASSERT_OK(again);
  EXPECT_TRUE((*again)->Contains(5));
  EXPECT_EQ((*again)->size(), index->size() + 1);
  for (const auto& e : fs::directory_iterator(dir)) {
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
  }
}

TEST(VectorIndexFilesTest, DamagedFilesGiveDataLoss) {
  std::vector<float> vecs;
  auto index = BuildForFiles(&vecs);
  const fs::path dir = souk::testing::TempDir("vector_damage") / "idx";
  ASSERT_OK(index->Save(dir.string()));
  const fs::path meta = dir / VectorIndex::kMetaFileName;
  ASSERT_EQ(FaissFiles(dir).size(), 1u);
  const fs::path faiss_file = FaissFiles(dir)[0];
  const std::string meta_bytes = ReadAll(meta);
  const std::string faiss_bytes = ReadAll(faiss_file);
  auto expect_code = [&](StatusCode code, const char* what) {
    auto r = VectorIndex::Load(dir.string());
    EXPECT_EQ(r.status().code(), code) << what << ": " << r.status().ToString();
  };

  EXPECT_EQ(VectorIndex::Load((dir / "nope").string()).status().code(), StatusCode::kNotFound);

  WriteAll(faiss_file, faiss_bytes.substr(0, faiss_bytes.size() / 2));
  expect_code(StatusCode::kDataLoss, "truncated faiss file");
  std::string flipped = faiss_bytes;
  flipped[flipped.size() / 2] ^= 0x40;
  WriteAll(faiss_file, flipped);
  expect_code(StatusCode::kDataLoss, "corrupted faiss file");
  fs::remove(faiss_file);
  expect_code(StatusCode::kDataLoss, "missing faiss file");
  WriteAll(faiss_file, faiss_bytes);
  ASSERT_OK(VectorIndex::Load(dir.string()));

  for (size_t cut :
       {size_t{0}, size_t{5}, size_t{40}, meta_bytes.size() / 2, meta_bytes.size() - 1}) {
    WriteAll(meta, meta_bytes.substr(0, cut));
    expect_code(StatusCode::kDataLoss, "truncated header");
  }
  for (size_t at : {size_t{20}, size_t{64}, meta_bytes.size() - 700, meta_bytes.size() - 3}) {
    std::string m = meta_bytes;
    m[at] ^= 0x01;
    WriteAll(meta, m);
    expect_code(StatusCode::kDataLoss, "corrupted header");
  }
  std::string future = meta_bytes;
  future[8] = 9;  // format version 9
  WriteAll(meta, future);
  expect_code(StatusCode::kFailedPrecondition, "unknown version");

  // A Faiss file whose checksum matches the header but which Faiss cannot parse
  // (cut in the middle): the Faiss exception must come back as DataLoss.
  const std::string cut_faiss = faiss_bytes.substr(0, faiss_bytes.size() - 1000);
  WriteAll(faiss_file, cut_faiss);
  std::string m = meta_bytes;
  const uint64_t size = cut_faiss.size();
  const uint64_t hash = Fnv64(cut_faiss.data(), cut_faiss.size());
  std::memcpy(m.data() + 60, &size, 8);  // header offsets: faiss size at 60,
  std::memcpy(m.data() + 68, &hash, 8);  // checksum at 68, trailer in the last 8
  const uint64_t trailer = Fnv64(m.data(), m.size() - 8);
  std::memcpy(m.data() + m.size() - 8, &trailer, 8);
  WriteAll(meta, m);
  expect_code(StatusCode::kDataLoss, "unparseable faiss file");
}

#else  // SOUK_VECTOR_INDEX_SLOW_TESTS

// recall@10 of the default HNSW settings against exact search, 50k x 64.
TEST(VectorIndexRecallTest, DefaultSettingsRecallAt10OnClusteredVectors) {
  constexpr int kDim = 64;
  constexpr size_t kN = 50000;
  constexpr int kQueries = 300;
  // Within-cluster spread as large as the spread of the centers: neighbours
  // often lie in other clusters, which makes the graph walk work.
  const auto vecs = MakeVectors(kN, kDim, 200, 21, 1.0f);
  const auto queries = MakeVectors(kQueries, kDim, 200, 22, 1.0f);
  auto index = MakeIndex({.dim = kDim});
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_OK(index->AddBatch(Iota(kN), vecs));
  const double build_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<uint8_t> allow(kN);
  for (size_t d = 0; d < kN; ++d) allow[d] = d % 2;  // 50% allowed
  double recall = 0, filtered_recall = 0;
  for (int i = 0; i < kQueries; ++i) {
    const float* q = queries.data() + i * kDim;
    auto approx = index->Search({.vector = q, .k = 10});
    auto exact = index->Search({.vector = q, .k = 10, .exact = true});
    ASSERT_OK(approx);
    ASSERT_OK(exact);
    recall += Recall(*approx, *exact);
    VectorSearchInfo info;
    auto fa = index->Search({.vector = q, .k = 10, .allow = &allow, .info = &info});
    EXPECT_EQ(info.path, VectorSearchPath::kGraph);
    auto fe = index->Search({.vector = q, .k = 10, .allow = &allow, .exact = true});
    ASSERT_OK(fa);
    ASSERT_OK(fe);
    for (const auto& h : *fa) ASSERT_NE(allow[h.doc], 0);
    filtered_recall += Recall(*fa, *fe);
  }
  recall /= kQueries;
  filtered_recall /= kQueries;
  std::printf("build %.1fs, recall@10 %.4f, filtered(50%%) recall@10 %.4f\n", build_s, recall,
              filtered_recall);
  EXPECT_GE(recall, 0.95);
  EXPECT_GE(filtered_recall, 0.95);
}

#endif  // SOUK_VECTOR_INDEX_SLOW_TESTS

}  // namespace
}  // namespace souk::index
