#include "search/request.h"

#include <fmt/format.h>

#include <cmath>
#include <optional>

namespace souk::search {
namespace {

std::string Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  const size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

StatusOr<double> Number(std::string_view text, std::string_view expr) {
  const std::string t = Trim(text);
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (t.empty() || *end != '\0' || !std::isfinite(v)) {
    return InvalidArgumentError(fmt::format("filter '{}': '{}' is not a number", expr, t));
  }
  return v;
}

// "a..b", "..b", "a..", "a" (exact) into [min, max].
Status Range(std::string_view value, std::string_view expr, std::optional<double>* min,
             std::optional<double>* max) {
  const size_t dots = value.find("..");
  if (dots == std::string_view::npos) {
    ASSIGN_OR_RETURN(double v, Number(value, expr));
    *min = v;
    *max = v;
    return OkStatus();
  }
  const std::string a = Trim(value.substr(0, dots)), b = Trim(value.substr(dots + 2));
  if (a.empty() && b.empty()) {
    return InvalidArgumentError(fmt::format("filter '{}': the range has no bounds", expr));
  }
  if (!a.empty()) {
    ASSIGN_OR_RETURN(double v, Number(a, expr));
    *min = v;
  }
  if (!b.empty()) {
    ASSIGN_OR_RETURN(double v, Number(b, expr));
    *max = v;
  }
  return OkStatus();
}

}  // namespace

StatusOr<index::Filter> ParseFilters(const std::vector<std::string>& expressions,
                                     const SearchCatalog& catalog) {
  index::Filter f;
  for (const std::string& expr : expressions) {
    // Operators: >=, <=, =
    size_t op = expr.find(">=");
    std::string kind = ">=";
    if (op == std::string::npos) {
      op = expr.find("<=");
      kind = "<=";
    }
    if (op == std::string::npos) {
      op = expr.find('=');
      kind = "=";
    }
    if (op == std::string::npos || op == 0) {
      return InvalidArgumentError(
          fmt::format("filter '{}': expected field=value, field>=number or field<=number", expr));
    }
    const std::string field = Trim(std::string_view(expr).substr(0, op));
    const std::string value = Trim(std::string_view(expr).substr(op + kind.size()));
    if (value.empty()) return InvalidArgumentError(fmt::format("filter '{}': empty value", expr));
    std::optional<double> lo, hi;
    const bool numeric_field = field == "price" || catalog.HasNumericKey(field);
    if (numeric_field) {
      if (kind == ">=") {
        ASSIGN_OR_RETURN(double v, Number(value, expr));
        lo = v;
      } else if (kind == "<=") {
        ASSIGN_OR_RETURN(double v, Number(value, expr));
        hi = v;
      } else {
        RETURN_IF_ERROR(Range(value, expr, &lo, &hi));
      }
      if (lo && hi && *lo > *hi) {
        return InvalidArgumentError(
            fmt::format("filter '{}': inverted range (min {} > max {})", expr, *lo, *hi));
      }
      if (field == "price") {
        if (lo) f.price_min = f.price_min ? std::max(*f.price_min, *lo) : *lo;
        if (hi) f.price_max = f.price_max ? std::min(*f.price_max, *hi) : *hi;
        if (f.price_min && f.price_max && *f.price_min > *f.price_max) {
          return InvalidArgumentError(fmt::format(
              "filter '{}': price filters contradict each other (min {} > max {})", expr,
              *f.price_min, *f.price_max));
        }
      } else {
        f.numeric.push_back({field, lo, hi});
      }
      continue;
    }
    if (kind != "=") {
      return InvalidArgumentError(
          fmt::format("filter '{}': {} needs a numeric field (price or a numeric attribute)", expr,
                      kind));
    }
    if (field == "brand") {
      f.brands.push_back(value);
    } else if (field == "category") {
      f.categories.push_back(value);
    } else if (field == "in_stock") {
      if (value != "true" && value != "false") {
        return InvalidArgumentError(fmt::format("filter '{}': in_stock is true or false", expr));
      }
      f.in_stock = value == "true";
    } else if (catalog.HasAttributeKey(field)) {
      f.attributes.emplace_back(field, value);
    } else {
      return InvalidArgumentError(fmt::format(
          "filter '{}': unknown field '{}' (brand, category, price, in_stock, or an attribute "
          "of the catalog)",
          expr, field));
    }
  }
  return f;
}

StatusOr<index::SortBy> ParseSort(std::string_view name) {
  if (name.empty() || name == "relevance") return index::SortBy::kRelevance;
  if (name == "price_asc") return index::SortBy::kPriceAsc;
  if (name == "price_desc") return index::SortBy::kPriceDesc;
  if (name == "popularity") return index::SortBy::kPopularity;
  return InvalidArgumentError(fmt::format(
      "sort '{}': expected relevance, price_asc, price_desc or popularity", name));
}

}  // namespace souk::search
