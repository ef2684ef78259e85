#include "app/store_access.h"

#include <fmt/format.h>

#include <fstream>

#include "common/clock.h"

namespace souk::app {

StatusOr<std::unique_ptr<store::SqliteStore>> OpenStore(const AppContext& ctx, bool create) {
  store::SqliteStoreOptions o;
  o.create_if_missing = create;
  o.synchronous = ctx.config.GetString("store.synchronous");
  o.cache_mb = static_cast<int>(ctx.config.GetInt("store.cache_mb"));
  o.busy_timeout_ms = static_cast<int>(ctx.config.GetInt("store.busy_timeout_ms"));
  return store::SqliteStore::Open(ctx.DbPath(), o);
}

Status WriteTextFile(const std::filesystem::path& path, const std::string& text) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return FailedPreconditionError(fmt::format("cannot create folder '{}': {}", path.parent_path().string(), ec.message()));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return FailedPreconditionError(fmt::format("cannot write '{}'", path.string()));
  return OkStatus();
}

quality::QualityOptions QualityOptionsFromConfig(const Config& c) {
  quality::QualityOptions o;
  o.bot_events_per_minute = c.GetDouble("quality.bot_events_per_minute");
  o.bot_min_events = c.GetInt("quality.bot_min_events");
  o.no_dwell_seconds = c.GetDouble("quality.no_dwell_seconds");
  o.outlier_z = c.GetDouble("quality.outlier_z");
  o.cold_threshold = c.GetInt("quality.cold_threshold");
  o.session_gap_s = c.GetInt("quality.session_gap_s");
  o.now_ms = RealClock().NowMillis();
  return o;
}

}  // namespace souk::app
