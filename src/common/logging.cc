#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace souk {

Status InitLogging(const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    return InvalidArgumentError("unknown log level '" + level +
                                "' (expected trace, debug, info, warn, error or off)");
  }
  auto logger = spdlog::get("souk");
  if (!logger) logger = spdlog::stderr_color_mt("souk");
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
  return OkStatus();
}

}  // namespace souk
