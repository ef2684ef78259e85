// Calendar time in UTC: the one place timestamps are parsed and formatted and
// civil dates are turned into day numbers (proleptic Gregorian).
// Thread-safety: pure functions (no locale, no time-zone database, no locks).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace souk {

// Parses ISO 8601 ("2025-10-03T14:22:31Z", "2025-10-03 14:22:31", "2025-10-03",
// "...+08:00", fractional seconds, " UTC" suffix), M/D/YYYY H:MM, or epoch
// seconds/milliseconds (10 or 13 digits) into UTC milliseconds. nullopt when unparsable.
std::optional<int64_t> ParseTimestampMs(std::string_view s);
// "2025-10-03T14:22:31Z" (with a millisecond fraction when non-zero).
std::string FormatTimestampMs(int64_t ms);

// Days from 1970-01-01 to y-m-d (Howard Hinnant's algorithm; no range check:
// an out-of-range day rolls over).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
// The same, or nullopt when y-m-d is not a calendar date (e.g. 2019-02-30).
std::optional<int64_t> DaysFromCivilChecked(int y, int m, int d);

}  // namespace souk
