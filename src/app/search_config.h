// Search settings from the configuration file (config keys search.*, index.*,
// lm.subword.*, ranker.*; see docs/config.md).
#pragma once

#include "common/config.h"
#include "search/store_search.h"

namespace souk::app {

search::StoreSearchConfig SearchConfigFrom(const Config& config);

}  // namespace souk::app
