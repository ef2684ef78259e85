// The one list of configuration keys. Keep each doc line short and concrete.
#include <algorithm>

#include "common/config.h"

namespace souk {

const std::vector<ConfigKey>& ConfigSchema() {
  static const std::vector<ConfigKey> keys = [] {
    std::vector<ConfigKey> k = {
        // general
        {"general.log_level", ConfigType::kString, "info", "trace, debug, info, warn, error or off"},
        {"general.progress", ConfigType::kString, "auto", "progress display: auto (bar on a terminal), bar, lines, off"},
        // store
        {"store.synchronous", ConfigType::kString, "full", "SQLite synchronous mode in WAL: full (a returned batch survives power loss) or normal (survives a process crash)"},
        {"store.cache_mb", ConfigType::kInt, "256", "SQLite page cache per connection, MiB"},
        {"store.busy_timeout_ms", ConfigType::kInt, "10000", "how long a writer waits for a lock before failing, ms"},
        // import
        {"import.batch_size", ConfigType::kInt, "20000", "records per write transaction; a batch is durable when acknowledged"},
        {"import.unknown_item", ConfigType::kString, "stub", "an event naming an item not in the catalog: stub (create a placeholder item) or quarantine"},
        {"import.max_field_bytes", ConfigType::kInt, "1048576", "a field longer than this is quarantined as oversized"},
        {"import.min_timestamp", ConfigType::kString, "1995-01-01", "events older than this date are quarantined as absurdly old"},
        {"import.max_future_s", ConfigType::kInt, "86400", "events more than this many seconds in the future are quarantined"},
        {"import.max_price", ConfigType::kDouble, "10000000", "prices above this are quarantined as out of range"},
        {"import.max_quantity", ConfigType::kDouble, "100000", "|quantity| above this is quarantined as out of range"},
        {"import.defer_indexes", ConfigType::kString, "auto", "bulk loads drop and rebuild the secondary event indexes: auto (large inputs), always, never"},
        {"import.quarantine_raw_bytes", ConfigType::kInt, "4096", "how much of a bad record's raw text is kept in quarantine"},
        // quality
        {"quality.bot_events_per_minute", ConfigType::kDouble, "30", "a user or session above this sustained event rate is bot-like"},
        {"quality.bot_min_events", ConfigType::kInt, "20", "only users/sessions with at least this many events are judged for bot-likeness"},
        {"quality.no_dwell_seconds", ConfigType::kDouble, "1", "a view followed by the next event within this many seconds had no dwell"},
        {"quality.outlier_z", ConfigType::kDouble, "3.5", "robust z-score (median/MAD) above which a price is an outlier in its category"},
        {"quality.cold_threshold", ConfigType::kInt, "5", "items/users with fewer interactions than this count as cold"},
        {"quality.session_gap_s", ConfigType::kInt, "1800", "inactivity that ends a session when events carry no session id"},
        // generate
        {"generate.seed", ConfigType::kInt, "42", "seed of the demo's synthetic store (souk demo); souk generate takes --seed"},
    };
    std::sort(k.begin(), k.end(), [](auto& a, auto& b) { return a.name < b.name; });
    return k;
  }();
  return keys;
}

}  // namespace souk
