#include "server/console_assets.h"

namespace souk::server {

const ConsoleAsset* FindConsoleAsset(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  const ConsoleAsset* index = nullptr;
  for (const ConsoleAsset& a : ConsoleAssets()) {
    if (a.path == path) return &a;
    if (a.path == "index.html") index = &a;
  }
  // Client-side routes ("", "search", "shopper/U1") get the page; a missing file
  // (anything with an extension in its last segment) is a 404.
  const size_t slash = path.rfind('/');
  const std::string_view last = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (last.find('.') != std::string_view::npos) return nullptr;
  return index;
}

}  // namespace souk::server
