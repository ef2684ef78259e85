// Text forms of search request parts, shared by the command line and the HTTP
// API: filter expressions and sort names.
//
//   brand=Samsung            category=TV            in_stock=true
//   price=10..50  price>=10  price<=50  price=..50  (inclusive bounds)
//   color=red                (a string attribute of the catalog)
//   weight_g=100..500        (a numeric attribute of the catalog)
//
// Repeated fields: brand/category values are OR-ed, attributes AND-ed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "index/lexical_index.h"
#include "search/catalog.h"

namespace souk::search {

// Errors: InvalidArgument naming the expression for a syntax error, an unknown
// field (not brand/category/price/in_stock nor an attribute of the catalog), a
// value that is not a number, or an inverted range.
StatusOr<index::Filter> ParseFilters(const std::vector<std::string>& expressions,
                                     const SearchCatalog& catalog);
// "relevance", "price_asc", "price_desc", "popularity". InvalidArgument otherwise.
StatusOr<index::SortBy> ParseSort(std::string_view name);

}  // namespace souk::search
