// Opening the data directory's store with the configured options, and the
// shared import entry point (used by `import` and `demo`).
#pragma once

#include <memory>

#include "app/app_context.h"
#include "ingest/adapter.h"
#include "ingest/importer.h"
#include "store/sqlite_store.h"

namespace souk::app {

StatusOr<std::unique_ptr<store::SqliteStore>> OpenStore(const AppContext& ctx, bool create);

StatusOr<ingest::ImportSummary> RunImport(AppContext& ctx, store::Store* store, const std::string& format,
                                          const std::vector<std::string>& paths,
                                          const ingest::AdapterOptions& ao);

}  // namespace souk::app
