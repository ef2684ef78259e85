// `souk model`: text-encoder checkpoints from a Hugging Face style hub.
//   souk model pull <org/name> [--revision R] [--endpoint URL] [--file F ...]
//                   [--sha256 FILE=HEX ...] [--records weights-not-included.json] [--dest DIR]
//   souk model verify <dir> --records weights-not-included.json
//   souk model list
// Pulled models live in <data-dir>/models/hub/<org>--<name>, each with the
// souk-download.json record of its pull (see lm/model_download.h). The hub
// endpoint comes from --endpoint, else models.hub_endpoint, else HF_ENDPOINT;
// the token from HF_TOKEN; retries and timeouts from models.download_*.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/app_context.h"
#include "lm/model_download.h"

namespace souk::app {
namespace {

namespace fs = std::filesystem;

struct PullArgs {
  std::string repo_id;
  std::string revision;
  std::string endpoint;
  std::vector<std::string> files;
  std::vector<std::string> sha256;  // FILE=HEX
  std::string records;
  std::string dest;
  int retries = -1;
};

struct VerifyArgs {
  std::string dir;
  std::string records;
};

// Adds the {"file": {"sha256": ...}} entries of a weights record to `expected`.
Status AddRecords(const std::string& records, std::map<std::string, std::string>* expected) {
  std::ifstream in(records);
  if (!in) return NotFoundError(fmt::format("--records {}: cannot open", records));
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return InvalidArgumentError(fmt::format("--records {}: not a JSON object", records));
  for (const auto& [name, entry] : j.items()) {
    if (!entry.is_object() || !entry.contains("sha256") || !entry["sha256"].is_string()) {
      return InvalidArgumentError(
          fmt::format("--records {}: entry '{}' has no \"sha256\" string", records, name));
    }
    (*expected)[name] = entry["sha256"].get<std::string>();
  }
  return OkStatus();
}

Status RunPull(AppContext& ctx, const PullArgs& args) {
  lm::DownloadOptions options;
  // Precedence: flags, then configuration (models.*), then HF_ENDPOINT / HF_TOKEN.
  if (const std::string& endpoint = ctx.config.GetString("models.hub_endpoint"); !endpoint.empty()) {
    options.endpoint = endpoint;
  }
  options.max_retries = static_cast<int>(std::max<int64_t>(0, ctx.config.GetInt("models.download_retries")));
  options.timeout_seconds =
      static_cast<int>(std::max<int64_t>(1, ctx.config.GetInt("models.download_timeout_s")));
  lm::ApplyHubEnvironment(&options);  // only fills what is still at its default
  if (!args.revision.empty()) options.revision = args.revision;
  if (!args.endpoint.empty()) options.endpoint = args.endpoint;
  if (args.retries >= 0) options.max_retries = args.retries;
  options.files = args.files;
  if (!args.records.empty()) RETURN_IF_ERROR(AddRecords(args.records, &options.expected_sha256));
  for (const std::string& kv : args.sha256) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size()) {
      return InvalidArgumentError(fmt::format("--sha256 '{}': expected FILE=HEX", kv));
    }
    options.expected_sha256[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  fs::path dest;
  if (!args.dest.empty()) {
    dest = args.dest;
  } else {
    ASSIGN_OR_RETURN(dest, lm::HubModelDir(ctx.data_dir, args.repo_id));
  }
  const ProgressOptions po = ctx.MakeProgressOptions();
  ASSIGN_OR_RETURN(std::vector<lm::DownloadedFile> files,
                   lm::PullModel(args.repo_id, dest, options, &po));
  uint64_t fetched = 0;
  if (ctx.json) {
    nlohmann::json out = {{"repo", args.repo_id},
                          {"revision", options.revision},
                          {"endpoint", options.endpoint},
                          {"dest", dest.string()}};
    nlohmann::json list = nlohmann::json::array();
    for (const auto& f : files) {
      list.push_back({{"name", f.name},
                      {"bytes", f.bytes},
                      {"sha256", f.sha256},
                      {"verified", f.verified_against},
                      {"verified_by", f.verified_by},
                      {"resumed", f.resumed},
                      {"skipped_existing", f.skipped_existing}});
    }
    out["files"] = std::move(list);
    fmt::print("{}\n", out.dump());
    return OkStatus();
  }
  fmt::print("{} ({}) -> {}\n", args.repo_id, options.revision, dest.string());
  for (const auto& f : files) {
    if (!f.skipped_existing) fetched += f.bytes;
    const std::string state = f.skipped_existing ? "kept (already verified)"
                              : f.resumed        ? "downloaded (resumed)"
                                                 : "downloaded";
    const std::string check =
        f.verified_against ? "sha256 verified (" + f.verified_by + ")" : "size checked";
    fmt::print("  {:<36} {:>10}  {}…  {}, {}\n", f.name,
               HumanCount(static_cast<double>(f.bytes), true), f.sha256.substr(0, 12), state,
               check);
  }
  fmt::print("{} files, {} fetched\n", files.size(),
             HumanCount(static_cast<double>(fetched), true));
  return OkStatus();
}

Status RunVerify(AppContext& ctx, const VerifyArgs& args) {
  ASSIGN_OR_RETURN(std::vector<lm::WeightCheck> checks, lm::VerifyWeights(args.dir, args.records));
  const Status verdict = lm::WeightChecksStatus(checks);
  if (ctx.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& c : checks) {
      list.push_back({{"name", c.name},
                      {"present", c.present},
                      {"ok", c.ok},
                      {"expected_size", c.expected_size},
                      {"actual_size", c.actual_size},
                      {"expected_sha256", c.expected_sha256},
                      {"actual_sha256", c.actual_sha256},
                      {"problem", c.problem}});
    }
    fmt::print("{}\n", nlohmann::json{{"dir", args.dir},
                                      {"records", args.records},
                                      {"ok", verdict.ok()},
                                      {"files", std::move(list)}}
                           .dump());
  } else {
    for (const auto& c : checks) {
      fmt::print("  {:<36} {}\n", c.name, c.ok ? "ok" : c.problem);
    }
  }
  return verdict;
}

Status RunList(AppContext& ctx) {
  const fs::path hub = fs::path(ctx.data_dir) / "models" / "hub";
  nlohmann::json models = nlohmann::json::array();
  std::error_code ec;
  if (fs::is_directory(hub, ec)) {
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(hub, ec)) {
      if (e.is_directory()) dirs.push_back(e.path());
    }
    std::sort(dirs.begin(), dirs.end());
    for (const fs::path& dir : dirs) {
      nlohmann::json m = {{"dir", dir.string()}};
      std::ifstream in(dir / "souk-download.json");
      nlohmann::json rec = in ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json();
      if (rec.is_object()) {
        uint64_t bytes = 0;
        size_t n = 0;
        if (rec.contains("files") && rec["files"].is_array()) {
          for (const auto& f : rec["files"]) {
            if (f.contains("size") && f["size"].is_number_unsigned())
              bytes += f["size"].get<uint64_t>();
            ++n;
          }
        }
        m["repo"] = rec.value("repo", "");
        m["revision"] = rec.value("revision", "");
        m["time"] = rec.value("time", "");
        m["files"] = n;
        m["bytes"] = bytes;
      } else {
        m["repo"] = nullptr;  // no (readable) record: not pulled by souk, or interrupted
      }
      models.push_back(std::move(m));
    }
  }
  if (ctx.json) {
    fmt::print("{}\n", nlohmann::json{{"hub", hub.string()}, {"models", std::move(models)}}.dump());
    return OkStatus();
  }
  if (models.empty()) {
    fmt::print("no models under {}\n", hub.string());
    return OkStatus();
  }
  for (const auto& m : models) {
    if (m["repo"].is_null()) {
      fmt::print("{}  (no souk-download.json)\n", m["dir"].get<std::string>());
    } else {
      fmt::print("{}  {} @ {}  {} files, {}  pulled {}\n", m["dir"].get<std::string>(),
                 m["repo"].get<std::string>(), m["revision"].get<std::string>(),
                 m["files"].get<size_t>(),
                 HumanCount(static_cast<double>(m["bytes"].get<uint64_t>()), true),
                 m["time"].get<std::string>());
    }
  }
  return OkStatus();
}

}  // namespace

void RegisterCommand_model(CLI::App& app, AppContext& ctx) {
  auto* cmd = app.add_subcommand("model",
                                 "download and verify text-encoder checkpoints (Hugging Face hub)");
  cmd->require_subcommand(1);

  auto pull_args = std::make_shared<PullArgs>();
  auto* pull = cmd->add_subcommand(
      "pull",
      "download a model (resumable, sha256-checked) into <data-dir>/models/hub/<org>--<name>; "
      "HF_ENDPOINT and HF_TOKEN are honored");
  AddCommonOptions(pull, &ctx, true);
  pull->add_option("repo-id", pull_args->repo_id,
                   "repository, e.g. sentence-transformers/all-MiniLM-L6-v2")
      ->required();
  pull->add_option("--revision", pull_args->revision, "branch, tag or commit (default main)");
  pull->add_option("--endpoint", pull_args->endpoint,
                   "hub URL (default $HF_ENDPOINT or https://huggingface.co)");
  pull->add_option("--file", pull_args->files,
                   "file to fetch (repeatable; default: config, weights, tokenizer)");
  pull->add_option("--sha256", pull_args->sha256, "expected hash FILE=HEX (repeatable)");
  pull->add_option("--records", pull_args->records,
                   "weights-not-included.json giving expected sha256 per file");
  pull->add_option("--dest", pull_args->dest,
                   "destination folder (default <data-dir>/models/hub/<org>--<name>)");
  pull->add_option("--retries", pull_args->retries,
                   "retries per file after network errors (default models.download_retries)");
  pull->callback([&ctx, pull_args] {
    throw CLI::RuntimeError(Run(ctx, [&] { return RunPull(ctx, *pull_args); }));
  });

  auto verify_args = std::make_shared<VerifyArgs>();
  auto* verify =
      cmd->add_subcommand("verify", "check weight files in a folder against size/sha256 records");
  AddCommonOptions(verify, &ctx, true);
  verify->add_option("dir", verify_args->dir, "model folder")->required();
  verify->add_option("--records", verify_args->records, "weights-not-included.json style records")
      ->required();
  verify->callback([&ctx, verify_args] {
    throw CLI::RuntimeError(Run(ctx, [&] { return RunVerify(ctx, *verify_args); }));
  });

  auto* list =
      cmd->add_subcommand("list", "models under <data-dir>/models/hub with their download records");
  AddCommonOptions(list, &ctx, true);
  list->callback([&ctx] { throw CLI::RuntimeError(Run(ctx, [&] { return RunList(ctx); })); });
}

}  // namespace souk::app
