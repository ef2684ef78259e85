#include "search/live_update.h"

#include <fmt/format.h>

#include <filesystem>

#include "common/file.h"

namespace souk::search {
namespace {

Status WriteDocOrder(const SearchCatalog& catalog, const std::string& data_dir) {
  std::string docs;
  docs.reserve(catalog.size() * 12);
  for (uint32_t d = 0; d < catalog.size(); ++d) {
    if (!catalog.removed(d)) docs += catalog.doc(d).external_id;
    docs += '\n';
  }
  return WriteFileAtomically(std::filesystem::path(data_dir) / "index" / "docs.txt", docs);
}

bool Searchable(const store::Item& item) { return !item.is_stub && !item.title.empty(); }

}  // namespace

StatusOr<std::shared_ptr<StoreSearch>> ApplyItemChanges(const StoreSearch& current,
                                                        const std::vector<LiveItemChange>& changes,
                                                        const std::string& data_dir, LiveUpdateStats* stats) {
  if (!current.lexical || !current.engine) return FailedPreconditionError("live updates need an opened search");
  LiveUpdateStats st;
  auto catalog = std::make_shared<SearchCatalog>(*current.catalog);
  for (const LiveItemChange& ch : changes) {
    const std::optional<uint32_t> old = catalog->Find(ch.id);
    const bool searchable = ch.item && Searchable(*ch.item);
    if (!old && !searchable) {
      ++st.skipped;
      continue;
    }
    if (old) {
      catalog->Remove(*old);
      Status s = current.lexical->Delete(*old);
      if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
    }
    if (searchable) {
      const uint32_t d = catalog->Add(*ch.item);
      RETURN_IF_ERROR(current.lexical->Upsert(catalog->ToIndexDoc(d)));
      if (old) ++st.replaced; else ++st.added;
    } else {
      ++st.removed;
    }
  }
  catalog->Finish();
  RETURN_IF_ERROR(current.lexical->Commit());
  RETURN_IF_ERROR(WriteDocOrder(*catalog, data_dir));

  auto out = std::make_shared<StoreSearch>();
  out->analyzer = current.analyzer;
  out->profiles = current.profiles;
  out->classifier = current.classifier;
  out->manifest = current.manifest;
  out->ranker_version = current.ranker_version;
  out->encoder = current.encoder;
  out->lexical = current.lexical;
  out->indexed_docs = catalog->size();
  out->unindexed_items = 0;
  SearchEngine::Parts parts = current.engine->parts();
  parts.catalog = catalog;
  out->catalog = std::move(catalog);
  ASSIGN_OR_RETURN(out->engine, SearchEngine::Create(std::move(parts), current.engine->options()));
  if (stats != nullptr) *stats = st;
  return out;
}

StatusOr<size_t> CatchUpIndex(StoreSearch& search, const std::string& data_dir) {
  if (!search.lexical) return FailedPreconditionError("CatchUpIndex needs an opened search");
  size_t written = 0;
  const SearchCatalog& catalog = *search.catalog;
  for (uint32_t d = 0; d < catalog.size(); ++d) {
    if (catalog.removed(d)) {
      if (d < search.indexed_docs) {
        Status s = search.lexical->Delete(d);
        if (s.ok()) ++written;
        else if (s.code() != StatusCode::kNotFound) return s;
      }
    } else if (d >= search.indexed_docs) {
      RETURN_IF_ERROR(search.lexical->Upsert(catalog.ToIndexDoc(d)));
      ++written;
    }
  }
  if (written == 0 && search.indexed_docs == catalog.size()) return written;
  RETURN_IF_ERROR(search.lexical->Commit());
  RETURN_IF_ERROR(WriteDocOrder(catalog, data_dir));
  search.indexed_docs = catalog.size();
  search.unindexed_items = 0;
  return written;
}

}  // namespace souk::search
