// `souk eval <task> --protocol NAME [flags] [--json]`: runs one protocol of
// ../shared/EVAL.md through the eval/ frame, prints the report (one JSON object
// on stdout with --json, a table otherwise) and saves it under
// <data-dir>/reports/eval-<protocol>-<UTC time>.json.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "app/app_context.h"
#include "common/clock.h"
#include "eval/builtin_protocols.h"
#include "eval/protocol.h"

namespace souk::app {
namespace {

// Lives as long as the CLI::App (owned by the subcommand callbacks).
struct EvalCommandState {
  eval::ProtocolRegistry registry;
  Status registration = OkStatus();             // a failed registration is reported at run time
  eval::EvalInputs inputs;                      // the EVAL.md table flags
  std::map<std::string, std::string> protocol;  // task -> --protocol
};

std::string TaskDescription(const std::string& task) {
  if (task == eval::kTaskSearch) return "evaluate product search (EVAL.md A)";
  if (task == eval::kTaskRec) return "evaluate recommendations (EVAL.md B, C, F)";
  if (task == eval::kTaskIntent) return "evaluate purchase intent (EVAL.md D)";
  return "evaluate Chinese attribute extraction (EVAL.md E)";
}

void AddTaskFlags(CLI::App* cmd, const std::string& task, eval::EvalInputs* in) {
  if (task == eval::kTaskSearch) {
    cmd->add_option("--products", in->products, "products CSV (product_uid,title)");
    cmd->add_option("--judgments", in->judgments,
                    "judgments CSV scored (query,product_uid,relevance)");
    cmd->add_option("--train-judgments", in->train_judgments,
                    "judgments CSV for learned parts (default: 5-fold cross-fitting by query)");
  } else if (task == eval::kTaskRec) {
    cmd->add_option("--data", in->data, "data file (repeatable where the protocol concatenates)");
    cmd->add_option("--dir", in->dir, "dataset folder (amazon-unisrec)");
    cmd->add_option("--cutoff", in->cutoff, "cut-off date YYYY-MM-DD (online-retail)");
  } else if (task == eval::kTaskIntent) {
    cmd->add_option("--events", in->events, "event CSV (rees46)");
    cmd->add_option("--data", in->data, "tabular CSV (online-shoppers)");
    cmd->add_option("--dir", in->dir, "a `souk generate` output folder (synthetic)");
  } else if (task == eval::kTaskNer) {
    cmd->add_option("--train", in->train, "BIEOS training file");
    cmd->add_option("--dev", in->dev, "BIEOS development file (model selection)");
    cmd->add_option("--test", in->test, "BIEOS test file");
    cmd->add_option("--gazetteer", in->gazetteers, "gazetteer file (repeatable)");
  }
}

Status RunEval(AppContext& ctx, EvalCommandState& state, const std::string& task) {
  RETURN_IF_ERROR(state.registration);
  std::string name = state.protocol[task];
  if (name.empty()) name = state.registry.DefaultProtocol(task);
  ASSIGN_OR_RETURN(eval::EvalProtocol * protocol, state.registry.Find(task, name));

  eval::EvalContext ectx;
  ectx.task = task;
  ectx.inputs = state.inputs;
  ectx.data_dir = ctx.data_dir;
  ectx.progress = ctx.MakeProgressOptions();
  spdlog::info("souk eval {}: protocol {}", task, protocol->Name());
  ASSIGN_OR_RETURN(eval::EvalReport report, eval::RunProtocol(*protocol, ectx));

  if (ctx.json) {
    fmt::print("{}\n", eval::ReportToJson(report, false)
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    fmt::print("{}", eval::FormatReportTable(report));
  }
  std::fflush(stdout);
  ASSIGN_OR_RETURN(std::string path,
                   eval::SaveReport(report, ctx.data_dir, RealClock().NowMicros()));
  if (ctx.json) {
    spdlog::info("report saved to {}", path);
  } else {
    fmt::print("report saved to {}\n", path);
  }
  return OkStatus();
}

}  // namespace

void RegisterCommand_eval(CLI::App& app, AppContext& ctx) {
  auto state = std::make_shared<EvalCommandState>();
  state->registration = eval::RegisterBuiltinProtocols(state->registry);

  auto* cmd = app.add_subcommand("eval", "run an evaluation protocol of EVAL.md");
  cmd->require_subcommand(1);
  for (const std::string& task : eval::EvalTasks()) {
    auto* sub = cmd->add_subcommand(task, TaskDescription(task));
    AddCommonOptions(sub, &ctx, true);
    const std::string fallback = state->registry.DefaultProtocol(task);
    std::string help =
        fmt::format("protocol: {}", fmt::join(state->registry.KnownNames(task), ", "));
    if (!fallback.empty()) help += fmt::format(" (default {})", fallback);
    sub->add_option("--protocol", state->protocol[task], help);
    AddTaskFlags(sub, task, &state->inputs);
    for (eval::EvalProtocol* p : state->registry.ProtocolsOf(task)) p->AddOptions(sub);
    sub->callback([&ctx, state, task] {
      throw CLI::RuntimeError(Run(ctx, [&] { return RunEval(ctx, *state, task); }));
    });
  }
}

}  // namespace souk::app
