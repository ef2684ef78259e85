// The web console (console/, built by Vite) embedded in the binary at build
// time by cmake/EmbedConsole.cmake, served by HttpServer under /console/.
// The data is static read-only memory: thread-safe, no allocation.
#pragma once

#include <span>
#include <string_view>

namespace souk::server {

struct ConsoleAsset {
  std::string_view path;          // relative to /console/, e.g. "index.html", "assets/index-1a2b.js"
  std::string_view content_type;  // for the Content-Type header
  std::string_view data;
};

// Every embedded file. When the console was not built, one index.html that says how.
std::span<const ConsoleAsset> ConsoleAssets();
// Whether the real console is embedded (false: only the "not built" page).
bool ConsoleBuilt();

// The asset a request path under /console/ maps to: the file itself, or
// index.html for "" and for paths without a file extension (client-side routes);
// nullptr for an unknown file.
const ConsoleAsset* FindConsoleAsset(std::string_view path);

}  // namespace souk::server
