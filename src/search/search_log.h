// Search logs: what shoppers searched, what they were shown, and what they did
// with it — read from the store's event log, for learning-to-rank from clicks
// and purchases, the category-intent classifier, the spelling dictionary
// (successful queries) and synonym mining (queries that lead to the same
// purchases).
//
// A logged search is a kSearch event followed, in the same session and before
// the next search, by impressions/clicks whose context says page "search";
// labels: clicked 1, added to cart later in the session 2, purchased 3.
// Positions come from the context's "position" (1-based).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "rank/gbdt_model.h"
#include "search/catalog.h"
#include "store/store.h"

namespace souk::search {

struct LoggedResult {
  uint32_t doc = 0;
  int position = 0;  // 1-based; 0 = unknown
  int label = 0;     // 0 none, 1 click, 2 cart, 3 purchase
};

struct LoggedSearch {
  std::string query;
  std::string user;   // external id ("" = anonymous)
  std::string session;
  int64_t timestamp_ms = 0;
  std::vector<LoggedResult> shown;   // impressions (and clicked items not shown)
};

// Reads every logged search of the snapshot. `catalog` maps the store's items
// (by external id) to docs; items it does not know are skipped.
StatusOr<std::vector<LoggedSearch>> ReadSearchLog(store::Snapshot& snapshot,
                                                  const SearchCatalog& catalog);

// Examination propensity by position, estimated from the log as
// CTR(k) / CTR(1), made non-increasing and clipped to [min_propensity, 1].
// Index 0 is position 1. Positions beyond the estimated ones use the last value.
std::vector<double> EstimatePropensity(const std::vector<LoggedSearch>& log, int max_position = 20,
                                       double min_propensity = 0.1);

}  // namespace souk::search
