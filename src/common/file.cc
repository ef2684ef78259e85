#include "common/file.h"

#include <fmt/format.h>

#include <fstream>
#include <iterator>

namespace souk {

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view data) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) {
    return UnavailableError(
        fmt::format("cannot create {}: {}", path.parent_path().string(), ec.message()));
  }
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return UnavailableError(fmt::format("cannot write {}", tmp.string()));
    f.write(data.data(), static_cast<std::streamsize>(data.size()));
    f.flush();
    if (!f) return UnavailableError(fmt::format("write failed: {}", tmp.string()));
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) return UnavailableError(fmt::format("cannot rename {}: {}", tmp.string(), ec.message()));
  return OkStatus();
}

StatusOr<std::string> ReadFileToString(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return NotFoundError(fmt::format("{}: not found", path.string()));
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) return UnavailableError(fmt::format("cannot read {}", path.string()));
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) return UnavailableError(fmt::format("read failed: {}", path.string()));
  return data;
}

}  // namespace souk
