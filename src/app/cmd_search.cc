// `souk search "query" [--filter F]... [--facet NAME]... [--sort S] [--user U]
//  [--limit N] [--offset N] [--explain] [--json]`: one search through the same
// pipeline the HTTP API uses (search/engine.h), over the indexes `souk index`
// built.
#include <fmt/format.h>

#include "app/app_context.h"
#include "app/search_config.h"
#include "app/store_access.h"
#include "search/request.h"
#include "search/store_search.h"

namespace souk::app {
namespace {

struct SearchArgs {
  std::string query;
  std::vector<std::string> filters, facets;
  std::string sort = "relevance";
  std::string user;
  size_t limit = 10, offset = 0;
  bool explain = false;
};

void PrintReadable(const search::SearchResponse& r, bool explain, const std::string& encoder) {
  fmt::print("{} results in {:.1f} ms (ranker: {}, encoder: {})\n", r.total, r.took_ms, r.ranker,
             encoder.empty() ? "none" : encoder);
  if (!r.parsed.did_you_mean.empty()) {
    fmt::print("did you mean: {} (confidence {:.2f})\n", r.parsed.did_you_mean,
               r.parsed.spelling_confidence);
  }
  for (const auto& e : r.parsed.extractions) {
    fmt::print("understood: {} '{}' -> {}{}\n", e.kind, e.text, e.value,
               e.as_filter ? " (filter)" : " (signal)");
  }
  for (size_t i = 0; i < r.hits.size(); ++i) {
    const auto& h = r.hits[i];
    fmt::print("{:3}. {:<12} {:.4f}  {}\n", i + 1, h.external_id, h.score, h.title);
    if (explain && h.explanation) {
      const auto& e = *h.explanation;
      fmt::print("       lexical {:.3f}{}  dense {:.3f}{}  fused {:.4f}", e.lexical_score,
                 e.lexical_rank ? fmt::format(" (#{})", *e.lexical_rank) : "", e.dense_score,
                 e.dense_rank ? fmt::format(" (#{})", *e.dense_rank) : "", e.fused_score);
      if (e.ltr_score) {
        fmt::print("  ltr {:.3f} =", *e.ltr_score);
        for (size_t k = 0; k < e.ltr_contributions.size() && k < 4; ++k) {
          fmt::print(" {}{:+.3f}", e.ltr_contributions[k].first, e.ltr_contributions[k].second);
        }
        fmt::print(" ...");
      }
      if (e.personal_boost != 0) fmt::print("  personal +{:.3f}", e.personal_boost);
      fmt::print("\n");
    }
  }
  for (const auto& [name, counts] : r.facets) {
    fmt::print("facet {}:", name);
    for (size_t i = 0; i < counts.size() && i < 10; ++i) {
      fmt::print(" {} ({})", counts[i].value, counts[i].count);
    }
    fmt::print("\n");
  }
}

}  // namespace

void RegisterCommand_search(CLI::App& app, AppContext& ctx) {
  auto args = std::make_shared<SearchArgs>();
  auto* cmd = app.add_subcommand("search", "search the catalog (after `souk index`)");
  AddCommonOptions(cmd, &ctx, true);
  cmd->add_option("query", args->query, "the query (may be empty: browse by filters)");
  cmd->add_option("--filter", args->filters,
                  "brand=X, category=X, price=10..50, price<=50, in_stock=true, attr=value "
                  "(repeatable)");
  cmd->add_option("--facet", args->facets, "brand, category, price, in_stock or an attribute (repeatable)");
  cmd->add_option("--sort", args->sort, "relevance, price_asc, price_desc, popularity")->capture_default_str();
  cmd->add_option("--user", args->user, "personalize for this user id");
  cmd->add_option("--limit", args->limit, "hits to return")->capture_default_str();
  cmd->add_option("--offset", args->offset, "hits to skip")->capture_default_str();
  cmd->add_flag("--explain", args->explain, "show every score component and the query understanding");
  cmd->callback([&ctx, args] {
    throw CLI::RuntimeError(Run(ctx, [&]() -> Status {
      ASSIGN_OR_RETURN(auto store, OpenStore(ctx, false));
      ASSIGN_OR_RETURN(auto snap, store->OpenSnapshot());
      const search::StoreSearchConfig config = SearchConfigFrom(ctx.config);
      const ProgressOptions po = ctx.MakeProgressOptions();
      ASSIGN_OR_RETURN(auto s, search::OpenStoreSearch(*snap, ctx.data_dir, config, &po));
      search::SearchRequest req;
      req.query = args->query;
      ASSIGN_OR_RETURN(req.filter, search::ParseFilters(args->filters, *s->catalog));
      ASSIGN_OR_RETURN(req.sort, search::ParseSort(args->sort));
      req.facets = args->facets;
      req.user_id = args->user;
      req.limit = args->limit;
      req.offset = args->offset;
      req.explain = args->explain;
      ASSIGN_OR_RETURN(search::SearchResponse r, s->engine->Search(req));
      if (ctx.json) {
        nlohmann::json j = r.ToJson(args->explain);
        j["encoder"] = s->encoder;
        fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      } else {
        PrintReadable(r, args->explain, s->encoder);
        if (s->unindexed_items > 0) {
          fmt::print("note: {} items were added after the last `souk index` and are not searchable yet\n",
                     s->unindexed_items);
        }
      }
      return OkStatus();
    }));
  });
}

}  // namespace souk::app
