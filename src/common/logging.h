// Logging setup (spdlog). Logs go to stderr so that `--json` output on stdout
// stays machine-readable. Call InitLogging once from main().
#pragma once

#include <string>

#include "common/status.h"

namespace souk {

// level: trace, debug, info, warn, error, off.
Status InitLogging(const std::string& level);

}  // namespace souk
