// Shared pieces of the built-in adapters (private to ingest/).
#pragma once

#include <string>

#include "ingest/adapter.h"
#include "ingest/row_mapping.h"

namespace souk::ingest {

Status ImportMappedCsv(Importer& sink, const std::string& path, const RowMapping& m, char delimiter);
Status ImportMappedJsonl(Importer& sink, const std::string& path, const RowMapping& m);
// ',' '\t' or ';' by counting them on the first line.
char DetectDelimiter(const std::string& path);

// Registration of each adapter family (adapters_*.cc).
void RegisterGenericAdapters(AdapterRegistry& r);
void RegisterDatasetAdapters(AdapterRegistry& r);
// adapters_more.cc: the remaining public datasets.
void RegisterMoreDatasetAdapters(AdapterRegistry& r);

// A fixed, documented base time for datasets without timestamps
// (2015-01-01T00:00:00Z); their events keep their order through offsets from it.
inline constexpr int64_t kSyntheticEpochMs = 1420070400000;

}  // namespace souk::ingest
