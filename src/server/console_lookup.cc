#include "server/console_assets.h"

#include <filesystem>

#include "common/file.h"

namespace souk::server {
namespace {

std::string_view WithoutLeadingSlashes(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return path;
}

// Client-side routes ("", "search", "shopper/U1") get the page; anything with
// an extension in its last segment names a file.
bool IsClientRoute(std::string_view path) {
  const size_t slash = path.rfind('/');
  const std::string_view last = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return last.find('.') == std::string_view::npos;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string_view ConsoleContentType(std::string_view path) {
  if (EndsWith(path, ".html")) return "text/html; charset=utf-8";
  if (EndsWith(path, ".js") || EndsWith(path, ".mjs")) return "text/javascript; charset=utf-8";
  if (EndsWith(path, ".css")) return "text/css; charset=utf-8";
  if (EndsWith(path, ".json")) return "application/json";
  if (EndsWith(path, ".svg")) return "image/svg+xml";
  if (EndsWith(path, ".png")) return "image/png";
  if (EndsWith(path, ".ico")) return "image/x-icon";
  if (EndsWith(path, ".woff2")) return "font/woff2";
  if (EndsWith(path, ".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

const ConsoleAsset* FindConsoleAsset(std::string_view path) {
  path = WithoutLeadingSlashes(path);
  const ConsoleAsset* index = nullptr;
  for (const ConsoleAsset& a : ConsoleAssets()) {
    if (a.path == path) return &a;
    if (a.path == "index.html") index = &a;
  }
  return IsClientRoute(path) ? index : nullptr;
}

std::optional<ConsoleFile> ReadConsoleFile(const std::string& dir, std::string_view request_path) {
  std::string path(WithoutLeadingSlashes(request_path));
  if (path.find("..") != std::string::npos || path.find('\\') != std::string::npos) return std::nullopt;
  std::error_code ec;
  if (path.empty() || !std::filesystem::is_regular_file(std::filesystem::path(dir) / path, ec)) {
    if (!IsClientRoute(path)) return std::nullopt;
    path = "index.html";
  }
  auto text = ReadFileToString(std::filesystem::path(dir) / path);
  if (!text.ok()) return std::nullopt;
  return ConsoleFile{std::move(path), std::move(*text)};
}

}  // namespace souk::server
