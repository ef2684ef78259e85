// `souk embed --model DIR|HUB_ID [--kind query|document] [--batch-size N]
//  [--threads N] [--int8] [--max-length N]`: reads one UTF-8 text per line on
// stdin (a line may be empty) and writes one JSON array of floats per line on
// stdout, in input order, pooled and normalized exactly as the checkpoint says
// (BertEncoder::EncodeRaw: what sentence-transformers would return). Input is
// read and written in chunks of kChunkLines lines, so memory does not grow with
// the input. The model is loaded before anything is read: a missing or corrupt
// model is an error with nothing on stdout.
#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "app/app_context.h"
#include "app/search_config.h"
#include "common/utf8.h"
#include "lm/bert_encoder.h"

namespace souk::app {
namespace {

constexpr size_t kChunkLines = 256;

struct EmbedArgs {
  std::string model;
  std::string kind = "query";
  int batch_size = 0;   // 0: lm.batch_size
  int threads = -1;     // -1: lm.threads
  bool int8 = false;    // or lm.int8
  int max_length = -1;  // -1: lm.max_length
};

// One JSON array; floats in their shortest round-trip form.
void AppendRow(const float* row, int dim, std::string* out) {
  out->push_back('[');
  for (int i = 0; i < dim; ++i) {
    if (i > 0) out->push_back(',');
    fmt::format_to(std::back_inserter(*out), "{}", row[i]);
  }
  out->append("]\n");
}

Status RunEmbed(AppContext& ctx, const EmbedArgs& args) {
  lm::TextKind kind;
  if (args.kind == "query") {
    kind = lm::TextKind::kQuery;
  } else if (args.kind == "document") {
    kind = lm::TextKind::kDocument;
  } else {
    return InvalidArgumentError(fmt::format("--kind must be query or document, got '{}'", args.kind));
  }
  lm::BertEncoderOptions options = BertOptionsFrom(ctx.config);
  if (args.batch_size != 0) options.batch_size = args.batch_size;
  if (args.threads >= 0) options.threads = args.threads;
  if (args.int8) options.int8 = true;
  if (args.max_length >= 0) options.max_length = args.max_length;
  if (options.batch_size <= 0) {
    return InvalidArgumentError(fmt::format("--batch-size must be positive, got {}", options.batch_size));
  }
  ASSIGN_OR_RETURN(std::filesystem::path dir, ResolveModelDir(ctx.data_dir, args.model));
  StatusOr<std::unique_ptr<lm::BertEncoder>> loaded = lm::BertEncoder::Load(dir, options);
  if (!loaded.ok()) return loaded.status().WithContext(fmt::format("model {}", dir.string()));
  const lm::BertEncoder& encoder = **loaded;
  const int dim = encoder.Dim();

  std::vector<std::string> lines;
  std::vector<float> rows;
  std::string out;
  size_t line_no = 0;
  std::string line;
  bool eof = false;
  while (!eof) {
    lines.clear();
    while (lines.size() < kChunkLines) {
      if (!std::getline(std::cin, line)) {
        eof = true;
        break;
      }
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!IsValidUtf8(line)) {
        return InvalidArgumentError(fmt::format("stdin line {}: not valid UTF-8", line_no));
      }
      lines.push_back(std::move(line));
      line.clear();
    }
    if (lines.empty()) break;
    rows.assign(lines.size() * dim, 0.0f);
    RETURN_IF_ERROR(encoder.EncodeRaw(lines, kind, rows.data()));
    out.clear();
    for (size_t i = 0; i < lines.size(); ++i) AppendRow(rows.data() + i * dim, dim, &out);
    if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) {
      return UnavailableError("cannot write to stdout");
    }
  }
  if (std::fflush(stdout) != 0) return UnavailableError("cannot write to stdout");
  return OkStatus();
}

}  // namespace

void RegisterCommand_embed(CLI::App& app, AppContext& ctx) {
  auto args = std::make_shared<EmbedArgs>();
  auto* cmd = app.add_subcommand(
      "embed",
      "embed stdin lines with a BERT model: one JSON array of floats per line on stdout");
  AddCommonOptions(cmd, &ctx, /*with_json=*/false);
  cmd->add_option("--model", args->model,
                  "model folder (Hugging Face or `souk train encoder`) or a pulled hub id")
      ->required();
  cmd->add_option("--kind", args->kind, "query or document (selects lm.query_prefix / lm.document_prefix)")
      ->capture_default_str();
  cmd->add_option("--batch-size", args->batch_size, "texts per forward pass (default lm.batch_size)");
  cmd->add_option("--threads", args->threads, "inference threads, 0 = all cores (default lm.threads)");
  cmd->add_flag("--int8", args->int8, "int8 dynamic quantization (default lm.int8)");
  cmd->add_option("--max-length", args->max_length,
                  "tokens per text, 0 = the model's (default lm.max_length)");
  cmd->callback([&ctx, args] {
    throw CLI::RuntimeError(Run(ctx, [&] { return RunEmbed(ctx, *args); }));
  });
}

}  // namespace souk::app
