// EmbeddingCache: a persistent map (encoder_key, text) -> embedding row, so that
// re-indexing a catalog only embeds new or changed texts.
//
//   ASSIGN_OR_RETURN(auto cache, EmbeddingCache::Open(data_dir / "embedding_cache.db"));
//   const std::string key = encoder.Name() + ":" + encoder.Version();
//   ASSIGN_OR_RETURN(CachedEmbedStats st,
//       EmbedWithCache(cache.get(), key, encoder.Dim(), titles, embed_fn, 64, out, &po));
//
// Keys: encoder_key names the exact weights ("name:version"); when an encoder
// embeds queries and documents differently, put the text kind in the key too
// ("bert:ab12:doc"). Texts are keyed by TextHash (sha256 of the text with runs of
// ASCII whitespace collapsed to one space and trimmed), so "a  b " and "a b" share
// a row. Each encoder_key has one dim, fixed by its first Put.
//
// Storage: one SQLite file in WAL mode (synchronous=NORMAL: a committed Put
// survives a process crash; a power loss may drop the last few commits, never
// corrupt the file). Rows are stored as little-endian float32 blobs.
// Thread-safety: every method is thread-safe (one mutex around the connection).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/progress.h"
#include "common/status.h"

struct sqlite3;

namespace souk::lm {

class EmbeddingCache {
 public:
  // Opens or creates the cache file (parent folders are created).
  // Errors: Unavailable (cannot open/create), DataLoss (not a cache file or corrupt).
  static StatusOr<std::unique_ptr<EmbeddingCache>> Open(const std::filesystem::path& file);
  ~EmbeddingCache();
  EmbeddingCache(const EmbeddingCache&) = delete;
  EmbeddingCache& operator=(const EmbeddingCache&) = delete;

  // For each text found under encoder_key, copies its row into out[i*dim ..] and
  // sets (*found)[i] = 1; other rows of `out` are left untouched and get 0.
  // `found` is resized to texts.size(). Returns the number found.
  // Errors: InvalidArgument (dim <= 0, null out/found with texts, or dim differs
  // from the dim stored for encoder_key), DataLoss (a stored row of the wrong size).
  // Cost: one indexed lookup per text, in one read transaction.
  StatusOr<size_t> Lookup(std::string_view encoder_key, std::span<const std::string> texts, int dim,
                          float* out, std::vector<uint8_t>* found);

  // Stores (or replaces) rows[i*dim ..] for texts[i], all in one transaction
  // (all or nothing). Errors: InvalidArgument (dim <= 0, empty key, null rows,
  // dim differs from the stored dim of encoder_key), Unavailable (write failed).
  Status Put(std::string_view encoder_key, std::span<const std::string> texts, int dim,
             const float* rows);

  // Deletes every row whose encoder key differs from keep_encoder_key; returns
  // how many rows were deleted.
  StatusOr<size_t> Prune(std::string_view keep_encoder_key);

  // Number of rows stored under encoder_key.
  StatusOr<size_t> Count(std::string_view encoder_key);

  // Hex sha256 of the text with ASCII whitespace runs collapsed to one space and
  // leading/trailing whitespace removed.
  static std::string TextHash(std::string_view text);

 private:
  explicit EmbeddingCache(sqlite3* db);
  // Stored dim of encoder_key, 0 when the key is unknown. Requires mu_.
  StatusOr<int> StoredDimLocked(std::string_view encoder_key);

  std::mutex mu_;
  sqlite3* db_;  // GUARDED_BY(mu_)
};

// Embeds `texts` into the batch it is given: writes batch.size() rows of `dim`
// floats to `out`. Must not keep the pointers.
using EmbedFn = std::function<Status(std::span<const std::string>, float*)>;

struct CachedEmbedStats {
  size_t total = 0;       // texts.size()
  size_t from_cache = 0;  // rows found in the cache
  size_t embedded = 0;    // distinct texts passed to embed()
  size_t duplicates =
      0;  // missing texts equal (by TextHash) to another missing text: embedded once
};

// Fills out[i*dim ..] for every text: rows in the cache are copied, the others
// are embedded through `embed` in batches of batch_size distinct texts, stored in
// the cache (one transaction per batch) and copied. `progress` (nullable) counts
// embedded texts with rate and ETA.
// Errors: InvalidArgument (null cache/out, dim <= 0, batch_size <= 0, dim
// mismatch with the cache); the first error of `embed` is returned unchanged:
// batches before it are stored, the failing batch stores nothing.
StatusOr<CachedEmbedStats> EmbedWithCache(EmbeddingCache* cache, std::string_view encoder_key,
                                          int dim, std::span<const std::string> texts,
                                          const EmbedFn& embed, int batch_size, float* out,
                                          const ProgressOptions* progress);

}  // namespace souk::lm
