// `souk import --format NAME PATH...`: validated import into the store, with a
// summary of what was accepted and what was quarantined and why.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "app/app_context.h"
#include "app/store_access.h"
#include "ingest/adapter.h"
#include "ingest/importer.h"

namespace souk::app {

StatusOr<ingest::ImportSummary> RunImport(AppContext& ctx, store::Store* store, const std::string& format,
                                          const std::vector<std::string>& paths,
                                          const ingest::AdapterOptions& ao) {
  ingest::AdapterRegistry registry;
  ingest::RegisterBuiltinAdapters(registry);
  ingest::Adapter* adapter = registry.Find(format);
  if (!adapter) {
    std::string names;
    for (const auto* a : registry.All()) names += (names.empty() ? "" : ", ") + std::string(a->Name());
    return InvalidArgumentError(fmt::format("unknown format '{}' (known: {})", format, names));
  }
  ASSIGN_OR_RETURN(ingest::ImportOptions o, ingest::ImportOptions::FromConfig(ctx.config));
  o.progress = ctx.MakeProgressOptions();
  ingest::Importer importer(store, o);
  RETURN_IF_ERROR(importer.Begin(format, paths));
  Status s = adapter->Import(paths, ao, importer);
  if (!s.ok()) {
    importer.Abort(s);
    return s;
  }
  return importer.Finish();
}

// A column-mapping file for generic-csv / generic-jsonl:
//   kind = "events"            # items, events or users
//   delimiter = ";"            # optional, one character or "tab"
//   [map]
//   item_id = "product"        # target field = source column
//   "attr.color" = "Colour"    # item/user attributes
Status ReadMappingFile(const std::string& path, ingest::AdapterOptions* ao) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return InvalidArgumentError(fmt::format("{}:{}:{}: {}", path, e.source().begin.line, e.source().begin.column, e.description()));
  }
  for (auto&& [k, v] : t) {
    const std::string key(k.str());
    if (key == "kind" || key == "delimiter") {
      auto s = v.value<std::string>();
      if (!s) return InvalidArgumentError(fmt::format("{}: '{}' must be a string", path, key));
      if (key == "kind") ao->kind = *s;
      else if (*s == "tab" || *s == "\t") ao->delimiter = '\t';
      else if (s->size() == 1) ao->delimiter = (*s)[0];
      else return InvalidArgumentError(fmt::format("{}: delimiter must be one character or \"tab\"", path));
    } else if (key == "map") {
      const auto* m = v.as_table();
      if (!m) return InvalidArgumentError(fmt::format("{}: 'map' must be a table of target = \"column\"", path));
      for (auto&& [target, col] : *m) {
        auto c = col.value<std::string>();
        if (!c) return InvalidArgumentError(fmt::format("{}:{}: map.{} must be a column name (a string)", path, col.source().begin.line, target.str()));
        ao->mapping[std::string(target.str())] = *c;
      }
    } else {
      return InvalidArgumentError(fmt::format("{}:{}: unknown key '{}' (expected kind, delimiter, [map])", path, v.source().begin.line, key));
    }
  }
  return OkStatus();
}

void RegisterCommand_import(CLI::App& app, AppContext& ctx) {
  auto* cmd = app.add_subcommand("import", "import a catalog and behavior data (validated, with quarantine)");
  AddCommonOptions(cmd, &ctx, true);
  struct Args {
    std::string format;
    std::vector<std::string> paths;
    std::vector<std::string> maps;
    std::string kind;
    std::string delimiter;
    std::string event_type;
    std::string mapping_file;
    bool list = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--format", a->format, "input format (see --list-formats)");
  cmd->add_option("paths", a->paths, "files or folders to import");
  cmd->add_option("--kind", a->kind, "generic-csv/-jsonl: items, events or users");
  cmd->add_option("--map", a->maps, "generic-csv/-jsonl: target=column (repeatable), e.g. item_id=sku, attr.color=Colour");
  cmd->add_option("--delimiter", a->delimiter, "CSV delimiter: ',', ';', 'tab' (default: detected)");
  cmd->add_option("--mapping", a->mapping_file,
                  "generic-csv/-jsonl: TOML file with kind = \"events\", delimiter = \";\" and a [map] table of target = \"column\"");
  cmd->add_option("--event-type", a->event_type, "event type for datasets without one (amazon-seq, tafeng)");
  cmd->add_flag("--list-formats", a->list, "list the formats and exit");
  cmd->callback([&ctx, a] {
    throw CLI::RuntimeError(Run(ctx, [&ctx, a]() -> Status {
      if (a->list) {
        ingest::AdapterRegistry registry;
        ingest::RegisterBuiltinAdapters(registry);
        for (const auto* ad : registry.All()) fmt::print("{:<18} {}\n", ad->Name(), ad->Description());
        return OkStatus();
      }
      if (a->format.empty()) return InvalidArgumentError("--format is required (see `souk import --list-formats`)");
      if (a->paths.empty()) return InvalidArgumentError("give at least one file or folder to import");
      ingest::AdapterOptions ao;
      if (!a->mapping_file.empty()) RETURN_IF_ERROR(ReadMappingFile(a->mapping_file, &ao));
      if (!a->kind.empty()) ao.kind = a->kind;
      ao.event_type = a->event_type;
      for (const auto& m : a->maps) {
        auto eq = m.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == m.size()) {
          return InvalidArgumentError("--map '" + m + "' must look like target=column");
        }
        ao.mapping[m.substr(0, eq)] = m.substr(eq + 1);
      }
      if (!a->delimiter.empty()) {
        if (a->delimiter == "tab" || a->delimiter == "\\t") ao.delimiter = '\t';
        else if (a->delimiter.size() == 1) ao.delimiter = a->delimiter[0];
        else return InvalidArgumentError("--delimiter must be one character or 'tab'");
      }
      ASSIGN_OR_RETURN(auto store, OpenStore(ctx, /*create=*/true));
      ASSIGN_OR_RETURN(ingest::ImportSummary s, RunImport(ctx, store.get(), a->format, a->paths, ao));
      if (ctx.json) fmt::print("{}\n", s.ToJson().dump());
      else fmt::print("{}", s.ToText());
      return OkStatus();
    }));
  });
}

}  // namespace souk::app
