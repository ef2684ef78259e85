#include "app/store_access.h"

namespace souk::app {

StatusOr<std::unique_ptr<store::SqliteStore>> OpenStore(const AppContext& ctx, bool create) {
  store::SqliteStoreOptions o;
  o.create_if_missing = create;
  o.synchronous = ctx.config.GetString("store.synchronous");
  o.cache_mb = static_cast<int>(ctx.config.GetInt("store.cache_mb"));
  o.busy_timeout_ms = static_cast<int>(ctx.config.GetInt("store.busy_timeout_ms"));
  return store::SqliteStore::Open(ctx.DbPath(), o);
}

}  // namespace souk::app
