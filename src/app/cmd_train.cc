// `souk train <model>`: trains a model from the store and saves it as a new
// version under <data-dir>/models/. Models:
//  - ranker: learning-to-rank from logged searches with position-bias correction;
//  - encoder [--lora] [--base DIR|ID] [--pretrain-only] [--max-seconds S]: a
//    BERT text encoder for search. Without a base model (--base, lm.base_model)
//    one is pre-trained on the catalog texts into models/bert/<v>-pretrain;
//    then it is fine-tuned on (query -> engaged item) pairs from logged
//    searches and (item -> next distinct item) pairs from sessions into
//    models/bert/<v>, which becomes models/bert/CURRENT (what lm.encoder = bert
//    uses when lm.model is empty).
//  - recommender [--pipeline FILE]: every candidate source of the
//    recommendation scenarios, fitted on the store's events, and the learned
//    rankers (time split); saved as models/recommender/<v> (CURRENT), which
//    `souk recommend` serves.
//  - intent: the purchase-intent models (session, item, customer), calibrated;
//    saved as models/intent/<v> (CURRENT), which `souk intent` serves.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "app/app_context.h"
#include "app/intent_config.h"
#include "app/rec_config.h"
#include "app/search_config.h"
#include "app/store_access.h"
#include "common/file.h"
#include "lm/bert_trainer.h"
#include "search/store_search.h"

namespace souk::app {
namespace {

namespace fs = std::filesystem;

struct EncoderArgs {
  bool lora = false;
  std::string base;           // model folder or pulled hub id; "" = lm.base_model
  bool pretrain_only = false;
  double max_seconds = -1;    // < 0: lm.finetune.max_seconds
};

nlohmann::json ReportJson(const lm::TrainReport& r) {
  nlohmann::json j = nlohmann::json::parse(r.ToJson(), nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

std::string Curve(const std::vector<double>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{:.4f}", i ? " " : "", v[i]);
  return s.empty() ? "-" : s;
}

Status RunTrainEncoder(AppContext& ctx, const EncoderArgs& args) {
  const Config& c = ctx.config;
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  const std::string base_spec = args.base.empty() ? c.GetString("lm.base_model") : args.base;
  if (args.pretrain_only && !base_spec.empty()) {
    return InvalidArgumentError(
        "--pretrain-only pre-trains a new model on the catalog; it cannot start from a base model "
        "(--base / lm.base_model)");
  }
  const double budget = args.max_seconds >= 0 ? args.max_seconds : c.GetDouble("lm.finetune.max_seconds");
  if (budget < 0) return InvalidArgumentError(fmt::format("--max-seconds must be >= 0, got {}", budget));
  fs::path base_dir;
  if (!base_spec.empty()) {
    ASSIGN_OR_RETURN(base_dir, ResolveModelDir(ctx.data_dir, base_spec));
  }
  const int threads = static_cast<int>(std::max<int64_t>(0, c.GetInt("lm.threads")));

  ASSIGN_OR_RETURN(auto store, OpenStore(ctx, false));
  ASSIGN_OR_RETURN(auto snap, store->OpenSnapshot());
  const search::StoreSearchConfig sconfig = SearchConfigFrom(c);
  search::EncoderPairOptions pair_options;
  pair_options.max_pairs = static_cast<size_t>(std::max<int64_t>(1, c.GetInt("lm.finetune.max_pairs")));
  ASSIGN_OR_RETURN(search::EncoderTrainingData data,
                   search::MineEncoderTrainingData(*snap, sconfig, pair_options));
  if (!args.pretrain_only && data.pairs.empty()) {
    return FailedPreconditionError(fmt::format(
        "no training pairs in the store ({} logged searches, {} sessions): fine-tuning needs "
        "searches followed by clicks/carts/purchases or sessions with two distinct items viewed",
        data.searches, data.sessions));
  }

  const fs::path models = BertModelsDir(ctx.data_dir);
  const std::string version = search::NewModelVersion(models.string(), {"-pretrain"});
  const ProgressOptions po = ctx.MakeProgressOptions();
  nlohmann::json report = {{"version", version},
                           {"items", data.corpus.size()},
                           {"searches", data.searches},
                           {"sessions", data.sessions},
                           {"pairs", {{"query_item", data.query_pairs}, {"item_item", data.item_pairs}}}};
  std::string current;
  lm::TrainReport pre, fine;
  const bool pretrained = base_dir.empty();
  if (pretrained) {
    lm::PretrainOptions o;
    o.hidden_size = static_cast<int>(c.GetInt("lm.pretrain.hidden_size"));
    o.num_layers = static_cast<int>(c.GetInt("lm.pretrain.layers"));
    o.num_heads = static_cast<int>(c.GetInt("lm.pretrain.heads"));
    o.intermediate_size = static_cast<int>(c.GetInt("lm.pretrain.intermediate_size"));
    o.vocab_size = static_cast<int>(c.GetInt("lm.pretrain.vocab_size"));
    o.epochs = static_cast<int>(c.GetInt("lm.pretrain.epochs"));
    o.batch_size = static_cast<int>(c.GetInt("lm.pretrain.batch_size"));
    o.learning_rate = static_cast<float>(c.GetDouble("lm.pretrain.learning_rate"));
    o.max_length = static_cast<int>(c.GetInt("lm.pretrain.max_length"));
    o.threads = threads;
    // With fine-tuning to follow, pre-training gets half of the budget.
    if (budget > 0) o.max_seconds = args.pretrain_only ? budget : budget / 2;
    base_dir = models / (version + "-pretrain");
    ASSIGN_OR_RETURN(pre, lm::PretrainEncoder(data.corpus, base_dir, o, &po));
    report["pretrain"] = ReportJson(pre);
    report["pretrain_dir"] = base_dir.string();
    current = version + "-pretrain";
  }
  report["base"] = base_dir.string();
  if (!args.pretrain_only) {
    std::vector<lm::TrainPair> pairs;
    pairs.reserve(data.pairs.size());
    for (search::EncoderTextPair& p : data.pairs) pairs.push_back({std::move(p.query), std::move(p.positive)});
    lm::FinetuneOptions o;
    o.epochs = static_cast<int>(c.GetInt("lm.finetune.epochs"));
    o.batch_size = static_cast<int>(c.GetInt("lm.finetune.batch_size"));
    o.learning_rate = static_cast<float>(c.GetDouble("lm.finetune.learning_rate"));
    o.temperature = static_cast<float>(c.GetDouble("lm.finetune.temperature"));
    o.lora = args.lora || c.GetBool("lm.finetune.lora");
    o.lora_options.rank = static_cast<int>(c.GetInt("lm.finetune.lora_rank"));
    o.lora_options.alpha = static_cast<float>(c.GetDouble("lm.finetune.lora_alpha"));
    const int64_t max_length = c.GetInt("lm.max_length");
    o.max_length = static_cast<int>(max_length > 0 ? max_length : c.GetInt("lm.pretrain.max_length"));
    o.threads = threads;
    o.query_prefix = c.GetString("lm.query_prefix");
    o.document_prefix = c.GetString("lm.document_prefix");
    if (budget > 0) o.max_seconds = std::max(1.0, budget - elapsed());
    const fs::path out_dir = models / version;
    ASSIGN_OR_RETURN(fine, lm::FinetuneEncoder(base_dir, pairs, data.corpus, out_dir, o, &po));
    report["finetune"] = ReportJson(fine);
    report["lora"] = o.lora;
    current = version;
  }
  RETURN_IF_ERROR(WriteFileAtomically(models / "CURRENT", current + "\n"));
  report["current"] = current;
  report["dir"] = (models / current).string();
  report["seconds"] = elapsed();
  if (ctx.json) {
    fmt::print("{}\n", report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return OkStatus();
  }
  fmt::print("encoder {} from {} items, {} query->item and {} item->item pairs ({} searches, {} sessions)\n",
             current, data.corpus.size(), data.query_pairs, data.item_pairs, data.searches, data.sessions);
  if (pretrained) {
    fmt::print("  pre-training: {} steps, {} epochs, {:.1f}s, final loss {:.4f}{}\n", pre.steps, pre.epochs_done,
               pre.seconds, pre.final_loss, pre.stopped_early ? " (stopped early)" : "");
    fmt::print("    loss curve: {}\n", Curve(pre.loss_curve));
  } else {
    fmt::print("  base model: {}\n", base_dir.string());
  }
  if (!args.pretrain_only) {
    fmt::print("  fine-tuning{}: {} steps, {} epochs, {:.1f}s, final loss {:.4f}{}\n",
               report.value("lora", false) ? " (LoRA)" : "", fine.steps, fine.epochs_done, fine.seconds,
               fine.final_loss, fine.stopped_early ? " (stopped early)" : "");
    fmt::print("    loss curve: {}\n", Curve(fine.loss_curve));
    fmt::print("    validation MRR@10: {} (best {:.4f})\n", Curve(fine.validation_curve), fine.best_validation);
  }
  fmt::print("  saved to {} (now CURRENT); search with it: --set lm.encoder=bert, then `souk index`\n",
             (models / current).string());
  return OkStatus();
}

}  // namespace

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

  auto pipeline_file = std::make_shared<std::string>();
  auto ground_truth = std::make_shared<std::string>();
  auto* recommender = cmd->add_subcommand(
      "recommender",
      "the recommendation pipeline: candidate sources (popular, trending, co-occurrence, EASE, "
      "content, FBT, buy-again, SASRec when built with libtorch) and the learned rankers");
  AddCommonOptions(recommender, &ctx, true);
  recommender->add_option("--pipeline", *pipeline_file,
                          "pipeline configuration (.json or .toml) merged over the built-in scenarios");
  recommender->add_option("--ground-truth", *ground_truth,
                          "a generated store's ground_truth/future_purchases.csv: report recall@20 "
                          "of `home` on the held-out purchases next to popularity");
  recommender->callback([&ctx, pipeline_file, ground_truth] {
    throw CLI::RuntimeError(Run(ctx, [&]() -> Status {
      ASSIGN_OR_RETURN(auto store, OpenStore(ctx, false));
      ASSIGN_OR_RETURN(TrainRecommenderResult r, TrainRecommender(ctx, *store, *pipeline_file));
      if (!ground_truth->empty()) {
        ASSIGN_OR_RETURN(auto registries, RecommendRegistries::Make(ctx.data_dir, SessionGapMs(ctx.config)));
        ASSIGN_OR_RETURN(auto model, recommend::Recommender::Load(r.dir.string(), registries->deps()));
        ASSIGN_OR_RETURN(r.report["held_out_purchases"], EvaluateFuturePurchases(*model, *ground_truth, 20));
      }
      if (ctx.json) {
        fmt::print("{}\n", r.report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        return OkStatus();
      }
      const nlohmann::json& j = r.report;
      fmt::print("recommender {} ({}) from {} items, {} users, {} interactions in {:.1f} s\n",
                 r.version, j["pipeline"].get<std::string>(), j["items"].get<int64_t>(),
                 j["users"].get<int64_t>(), j["interactions"].get<int64_t>(), j["seconds"].get<double>());
      for (const auto& [id, sec] : j["sources"].items()) {
        fmt::print("  source {:<14} fitted in {:.2f} s\n", id, sec.get<double>());
      }
      for (const auto& s : j["skipped_sources"]) {
        fmt::print("  source {:<14} skipped: {}\n", s.value("id", ""), s.value("reason", ""));
      }
      for (const auto& [name, m] : j["rankers"].items()) {
        if (m.contains("skipped")) {
          fmt::print("  ranker {:<14} skipped: {}\n", name, m["skipped"].get<std::string>());
        } else if (m.contains("ranker")) {
          fmt::print("  ranker {:<14} {} users; {} NDCG@10 {:.4f} (fusion {:.4f}), recall@20 {:.4f} "
                     "(fusion {:.4f})\n",
                     name, m.value("train_users", 0), m.value("evaluated_on", ""),
                     m["ranker"]["ndcg@10"].get<double>(), m["fusion"]["ndcg@10"].get<double>(),
                     m["ranker"]["recall@20"].get<double>(), m["fusion"]["recall@20"].get<double>());
        }
      }
      if (j.contains("held_out_purchases")) {
        const auto& h = j["held_out_purchases"];
        fmt::print("  held-out purchases of {} shoppers: recall@20 {:.4f} (popularity {:.4f}, x{:.2f})\n",
                   h["users"].get<int64_t>(), h["recall"].get<double>(), h["recall_popular"].get<double>(),
                   h["lift"].get<double>());
      }
      fmt::print("  saved to {} (now CURRENT); try `souk recommend --scenario home --user ID`\n",
                 r.dir.string());
      return OkStatus();
    }));
  });

  auto* intent = cmd->add_subcommand(
      "intent",
      "purchase-intent models: session (P(the session ends with a purchase)), item (P(a viewed "
      "item is bought in the session)) and customer (P(buys in the next 30 days)), calibrated");
  AddCommonOptions(intent, &ctx, true);
  intent->callback([&ctx] {
    throw CLI::RuntimeError(Run(ctx, [&]() -> Status {
      ASSIGN_OR_RETURN(auto store, OpenStore(ctx, false));
      ASSIGN_OR_RETURN(nlohmann::json j, TrainIntentModels(ctx, *store));
      if (ctx.json) {
        fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        return OkStatus();
      }
      fmt::print("intent models {} from {} sessions (base rate {:.3f}) in {:.1f} s\n",
                 j["version"].get<std::string>(), j["sessions"].get<int64_t>(),
                 j["base_rate"].get<double>(), j["seconds"].get<double>());
      for (const auto& [name, m] : j["models"].items()) {
        if (m.contains("skipped")) {
          fmt::print("  {:<9} skipped: {}\n", name, m["skipped"].get<std::string>());
        } else {
          fmt::print("  {:<9} {} rows ({} positive), out-of-fold ROC-AUC {:.4f}, ECE {:.4f}, {} rounds\n",
                     name, m["rows"].get<int64_t>(), m["positives"].get<double>(),
                     m["oof_roc_auc"].get<double>(), m["oof_ece"].get<double>(),
                     m["rounds"].get<int>());
        }
      }
      fmt::print("  saved to {} (now CURRENT); try `souk intent --user ID`\n",
                 j["dir"].get<std::string>());
      return OkStatus();
    }));
  });

  auto enc_args = std::make_shared<EncoderArgs>();
  auto* encoder = cmd->add_subcommand(
      "encoder",
      "BERT text encoder for search: pre-train on the catalog (or start from --base), fine-tune "
      "on query->item and item->item pairs from the store");
  AddCommonOptions(encoder, &ctx, true);
  encoder->add_flag("--lora", enc_args->lora, "fine-tune LoRA adapters only (lm.finetune.lora)");
  encoder->add_option("--base", enc_args->base,
                      "model folder or pulled hub id to fine-tune from (default lm.base_model; "
                      "none = pre-train one on the catalog)");
  encoder->add_flag("--pretrain-only", enc_args->pretrain_only,
                    "only pre-train on the catalog; the pre-trained model becomes CURRENT");
  encoder->add_option("--max-seconds", enc_args->max_seconds,
                      "wall-time budget of the training (default lm.finetune.max_seconds; 0 = none)");
  encoder->callback([&ctx, enc_args] {
    throw CLI::RuntimeError(Run(ctx, [&] { return RunTrainEncoder(ctx, *enc_args); }));
  });
}

}  // namespace souk::app
