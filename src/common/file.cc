#include "common/file.h"

#include <fmt/format.h>

#include <fstream>

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

}  // namespace souk
