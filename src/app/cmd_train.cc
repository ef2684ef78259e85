// `souk train <model>`: trains a model from the store and saves it as a new
// version under <data-dir>/models/. Models: ranker (learning-to-rank from
// logged searches with position-bias correction). Later issues add encoder,
// recommenders and intent models as further subcommands.
#include <fmt/format.h>

#include "app/app_context.h"
#include "app/search_config.h"
#include "app/store_access.h"
#include "search/store_search.h"

namespace souk::app {

void RegisterCommand_train(CLI::App& app, AppContext& ctx) {
  auto* cmd = app.add_subcommand("train", "train a model from the store");
  cmd->require_subcommand(1);
  auto* ranker = cmd->add_subcommand(
      "ranker", "learning-to-rank for search from logged searches (clicks, carts, purchases)");
  AddCommonOptions(ranker, &ctx, true);
  ranker->callback([&ctx] {
    throw CLI::RuntimeError(Run(ctx, [&]() -> Status {
      ASSIGN_OR_RETURN(auto store, OpenStore(ctx, false));
      ASSIGN_OR_RETURN(auto snap, store->OpenSnapshot());
      const search::StoreSearchConfig config = SearchConfigFrom(ctx.config);
      const ProgressOptions po = ctx.MakeProgressOptions();
      ASSIGN_OR_RETURN(auto s, search::OpenStoreSearch(*snap, ctx.data_dir, config, &po,
                                                       /*load_ranker=*/false));
      ASSIGN_OR_RETURN(std::vector<search::LoggedSearch> log,
                       search::ReadSearchLog(*snap, *s->catalog));
      ASSIGN_OR_RETURN(search::RankerTrainingResult r,
                       search::TrainRankerFromLog(*s->engine, log, config, &po));
      nlohmann::json extra = {{"trained_from", "search log"},
                              {"data_watermark", snap->watermark()},
                              {"metrics", r.metrics}};
      ASSIGN_OR_RETURN(std::string version, search::SaveRanker(*r.model, ctx.data_dir, extra));
      if (ctx.json) {
        extra["version"] = version;
        fmt::print("{}\n", extra.dump());
      } else {
        fmt::print("ranker {} trained on {} logged searches; held out the latest {}:\n",
                   version, r.train_searches, r.holdout_searches);
        if (r.metrics.contains("fusion")) {
          fmt::print("  fusion order  MRR@10 {:.4f}  NDCG@10 {:.4f}\n",
                     r.metrics["fusion"]["mrr@10"].get<double>(),
                     r.metrics["fusion"]["ndcg@10"].get<double>());
          fmt::print("  with ranker   MRR@10 {:.4f}  NDCG@10 {:.4f}\n",
                     r.metrics["ltr"]["mrr@10"].get<double>(),
                     r.metrics["ltr"]["ndcg@10"].get<double>());
        }
        fmt::print("  saved to {}/models/ltr/{} (now CURRENT)\n", ctx.data_dir, version);
      }
      return OkStatus();
    }));
  });
}

}  // namespace souk::app
