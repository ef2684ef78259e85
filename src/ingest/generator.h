// Synthetic store generator: writes a realistic e-commerce catalog, users and
// shopper behavior in the "souk" import format (docs/formats/souk-import.md),
// plus ground truth for evaluation (holdout purchases, true complements, latent
// preferences, bots, price outliers).
//
//   souk::gen::GeneratorOptions o;
//   o.items = 10000; o.users = 2000; o.days = 30; o.seed = 7; o.out_dir = "/tmp/store";
//   ASSIGN_OR_RETURN(souk::gen::GeneratorSummary s, souk::gen::GenerateStore(o));
//
// Determinism: the same options (including seed) give byte-identical files on
// every platform with IEEE doubles; the generator uses its own PRNG, never
// std:: distributions.
// Memory: O(items + users) compact state (~40 bytes each) plus one day of events;
// events are streamed to disk in global time order.
// Thread-safety: GenerateStore is reentrant (no shared state); one call uses one core.
// Errors: InvalidArgument for bad options (naming the option), Internal/DataLoss
// when the output directory or a file cannot be written.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/progress.h"
#include "common/status.h"

namespace souk::gen {

struct GeneratorOptions {
  // --- behavior ---
  int64_t items = 10000;              // catalog size (>= 1)
  int64_t users = 2000;               // number of shoppers (>= 1)
  int days = 30;                      // simulated days; must exceed holdout_days
  uint64_t seed = 42;                 // PRNG seed; same seed + options => same bytes
  std::vector<std::string> languages = {"en"};  // subset of {"en", "zh"}
  int64_t events_target = 0;          // > 0: scale sessions so events ~= this
  double sessions_per_user_day = 0.1; // mean sessions per user per day (no events_target)
  int holdout_days = 7;               // last days kept out of events.csv (ground truth)
  int64_t start_time = 1756684800;    // first simulated second (2025-09-01T00:00:00Z)
  double bot_fraction = 0.005;        // share of users that are crawlers/bots
  double price_outlier_fraction = 0.005;  // share of items with an absurd price
  double traditional_fraction = 0.10; // share of zh items titled in traditional Chinese
  double typo_rate = 0.05;            // share of search queries with a typo
  double zh_share = 0.35;             // share of zh items/users when both languages are on
  // --- output ---
  std::string out_dir;                // created if missing; existing files are replaced
  ProgressOptions progress;           // progress on stderr while writing
};

// Counts of what was written (also in ground_truth/manifest.json).
struct GeneratorSummary {
  std::string out_dir;
  int64_t items = 0;
  int64_t users = 0;
  int64_t bots = 0;
  int64_t sessions = 0;
  int64_t events = 0;           // events.csv + holdout_events.csv rows
  int64_t events_train = 0;     // events.csv rows
  int64_t events_holdout = 0;   // ground_truth/holdout_events.csv rows
  int64_t purchases = 0;        // purchase events (train + holdout)
  int64_t future_purchases = 0; // ground_truth/future_purchases.csv rows
  int64_t complement_pairs = 0; // ground_truth/complements.csv rows
  int64_t price_outliers = 0;   // ground_truth/price_outliers.csv rows
  std::string cutoff;           // first holdout second, ISO 8601 UTC
  double seconds = 0;           // wall time of the run
  std::map<std::string, std::string> files;  // logical name -> path
};

// Checks the options; InvalidArgument naming the first bad field.
Status ValidateOptions(const GeneratorOptions& options);

// Generates the whole store into options.out_dir. Cost: linear in items + users
// + events; about 1-2 us per event on one core.
StatusOr<GeneratorSummary> GenerateStore(const GeneratorOptions& options);

// {"out", "items", "users", "events", "sessions", "purchases", "seconds", "files", ...}.
nlohmann::json SummaryToJson(const GeneratorSummary& summary);

// Parses "en", "zh", "en,zh" into a language list; InvalidArgument otherwise.
StatusOr<std::vector<std::string>> ParseLanguages(const std::string& csv);

// "2025-10-03T14:22:31Z" for seconds since the Unix epoch (UTC).
std::string FormatTimestamp(int64_t unix_seconds);

}  // namespace souk::gen
