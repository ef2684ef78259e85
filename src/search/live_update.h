// Live catalog changes for a serving search (the HTTP API's item upserts and
// deletes): a new StoreSearch that shares the old one's indexes, with
//  - a copy of the catalog where every changed or deleted item's doc is
//    removed and every new or changed item is appended as a new doc,
//  - the lexical index updated in place (Delete / Upsert, one Commit), so the
//    change is searchable (and a deleted item gone) as soon as this returns,
//  - index/docs.txt rewritten atomically ("" for removed docs), so a restart
//    maps the lexical index's documents to the same items.
// The vector index is not changed (it needs exclusive access): removed docs
// are skipped during dense retrieval (SearchCatalog::removed); new docs are
// found lexically and get vectors at the next `souk index`.
//
// Thread-safety: the old StoreSearch keeps serving while this runs; callers
// serialize calls (one updater) and swap the result in. Cost: one catalog
// copy (O(items)) plus one lexical write per change.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "search/store_search.h"
#include "store/types.h"

namespace souk::search {

struct LiveItemChange {
  std::string id;                    // external id
  std::optional<store::Item> item;   // the new content; nullopt = deleted
};

struct LiveUpdateStats {
  size_t added = 0, replaced = 0, removed = 0, skipped = 0;  // skipped: stubs / untitled / unknown deletes
};

// `data_dir` is where index/docs.txt lives. Errors: those of the lexical index
// and of writing docs.txt (the returned search is then not produced; the old
// one stays valid).
StatusOr<std::shared_ptr<StoreSearch>> ApplyItemChanges(const StoreSearch& current,
                                                        const std::vector<LiveItemChange>& changes,
                                                        const std::string& data_dir,
                                                        LiveUpdateStats* stats = nullptr);

// Brings the lexical index up to date with the catalog OpenStoreSearch built:
// docs appended since the last `souk index` (items added while no server ran)
// are upserted, removed docs are deleted from the index; docs.txt is rewritten.
// Returns how many docs were written.
StatusOr<size_t> CatchUpIndex(StoreSearch& search, const std::string& data_dir);

}  // namespace souk::search
