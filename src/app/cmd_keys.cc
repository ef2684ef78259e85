// `souk keys create --scope admin|ingest|search [--name N] [--json]`,
// `souk keys list`, `souk keys revoke ID`: the API keys of `souk serve`
// (<data_dir>/keys.json; only SHA-256 digests are stored, the key is printed
// once). A running server picks up new and revoked keys within a second.
#include <fmt/format.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "app/app_context.h"
#include "common/time.h"
#include "server/api_keys.h"

namespace souk::app {

void RegisterCommand_keys(CLI::App& app, AppContext& ctx) {
  auto* cmd = app.add_subcommand("keys", "API keys of the HTTP server (souk serve)");
  cmd->require_subcommand(1);
  struct Args {
    std::string scope = "search", name, id;
  };
  auto args = std::make_shared<Args>();
  auto keys_file = [&ctx] { return std::filesystem::path(ctx.data_dir) / "keys.json"; };

  auto* create = cmd->add_subcommand("create", "make a key (printed once: store it safely)");
  AddCommonOptions(create, &ctx, true);
  create->add_option("--scope", args->scope, "admin (everything), ingest (items, events) or search (read-only)")
      ->capture_default_str();
  create->add_option("--name", args->name, "a label (who uses it)");
  create->callback([&ctx, args, keys_file] {
    throw CLI::RuntimeError(Run(ctx, [&]() -> Status {
      ASSIGN_OR_RETURN(server::Scope scope, server::ParseScope(args->scope));
      std::error_code ec;
      std::filesystem::create_directories(ctx.data_dir, ec);
      ASSIGN_OR_RETURN(auto store, server::KeyStore::Open(keys_file()));
      server::ApiKeyInfo info;
      ASSIGN_OR_RETURN(std::string key, store->Create(scope, args->name, &info));
      if (ctx.json) {
        fmt::print("{}\n", nlohmann::json{{"key", key}, {"id", info.id}, {"scope", server::ScopeName(scope)},
                                          {"name", info.name}}.dump());
      } else {
        fmt::print("{}\n(id {}, scope {}; send as 'Authorization: Bearer KEY'; it is not shown again)\n", key,
                   info.id, server::ScopeName(scope));
      }
      return OkStatus();
    }));
  });

  auto* list = cmd->add_subcommand("list", "keys (ids, scopes, names; never the keys)");
  AddCommonOptions(list, &ctx, true);
  list->callback([&ctx, keys_file] {
    throw CLI::RuntimeError(Run(ctx, [&]() -> Status {
      ASSIGN_OR_RETURN(auto store, server::KeyStore::Open(keys_file()));
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& k : store->List()) {
        arr.push_back({{"id", k.id}, {"scope", server::ScopeName(k.scope)}, {"name", k.name},
                       {"created", FormatTimestampMs(k.created_ms)}, {"revoked", k.revoked}});
        if (!ctx.json) {
          fmt::print("{}  {:<7} {:<20} {}{}\n", k.id, server::ScopeName(k.scope), k.name,
                     FormatTimestampMs(k.created_ms), k.revoked ? "  (revoked)" : "");
        }
      }
      if (ctx.json) fmt::print("{}\n", nlohmann::json{{"keys", arr}}.dump());
      return OkStatus();
    }));
  });

  auto* revoke = cmd->add_subcommand("revoke", "revoke a key by its id");
  AddCommonOptions(revoke, &ctx, true);
  revoke->add_option("id", args->id, "the key id (souk keys list)")->required();
  revoke->callback([&ctx, args, keys_file] {
    throw CLI::RuntimeError(Run(ctx, [&]() -> Status {
      ASSIGN_OR_RETURN(auto store, server::KeyStore::Open(keys_file()));
      RETURN_IF_ERROR(store->Revoke(args->id));
      if (ctx.json) {
        fmt::print("{}\n", nlohmann::json{{"revoked", args->id}}.dump());
      } else {
        fmt::print("revoked {}\n", args->id);
      }
      return OkStatus();
    }));
  });
}

}  // namespace souk::app
