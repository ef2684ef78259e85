// The web console (console/, built by Vite) embedded in the binary at build
// time by cmake/EmbedConsole.cmake, served by HttpServer under /console/.
// The embedded data is static read-only memory: thread-safe, no allocation.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace souk::server {

struct ConsoleAsset {
  std::string_view path;  // relative to /console/, e.g. "index.html", "assets/index-1a2b.js"
  std::string_view data;
};

// Every embedded file. When the console was not built, one index.html that says how.
std::span<const ConsoleAsset> ConsoleAssets();
// Whether the real console is embedded (false: only the "not built" page).
bool ConsoleBuilt();

// The Content-Type of a console file, from its extension.
std::string_view ConsoleContentType(std::string_view path);

// The asset a request path under /console/ maps to: the file itself, or
// index.html for "" and for paths without a file extension (client-side routes);
// nullptr for an unknown file.
const ConsoleAsset* FindConsoleAsset(std::string_view path);

// The same rules over a folder (a `vite build` output; server.console_dir, for
// console development): the file's path relative to the folder and its bytes.
// nullopt for an unknown file or a path with ".." or a backslash.
struct ConsoleFile {
  std::string path;
  std::string data;
};
std::optional<ConsoleFile> ReadConsoleFile(const std::string& dir, std::string_view path);

}  // namespace souk::server
