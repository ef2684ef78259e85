// Writing files so that a crash never leaves a half-written one: the data goes
// to "<path>.tmp", which is then renamed over `path` (atomic on POSIX).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

namespace souk {

// Creates the parent folders, writes `data` to a temporary file next to `path`
// and renames it onto `path`. Errors: Unavailable naming the file.
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view data);

// The whole file. NotFound naming the path when it is missing, Unavailable when
// it cannot be read.
StatusOr<std::string> ReadFileToString(const std::filesystem::path& path);

}  // namespace souk
