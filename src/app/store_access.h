// Opening the data directory's store with the configured options, and the
// shared import entry point (used by `import` and `demo`).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "app/app_context.h"
#include "ingest/adapter.h"
#include "ingest/importer.h"
#include "ingest/quality.h"
#include "store/sqlite_store.h"

namespace souk::app {

StatusOr<std::unique_ptr<store::SqliteStore>> OpenStore(const AppContext& ctx, bool create);

// Writes a whole text file, creating its folder; errors name the path.
Status WriteTextFile(const std::filesystem::path& path, const std::string& text);

// quality.* keys of the configuration (now = the real clock).
quality::QualityOptions QualityOptionsFromConfig(const Config& config);

StatusOr<ingest::ImportSummary> RunImport(AppContext& ctx, store::Store* store, const std::string& format,
                                          const std::vector<std::string>& paths,
                                          const ingest::AdapterOptions& ao);

}  // namespace souk::app
