#include "recommend/source_io.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <unordered_map>

#include "common/file.h"
#include "common/hash.h"

namespace souk::recommend::internal {
namespace {

constexpr char kArrayMagic[8] = {'S', 'O', 'U', 'K', 'A', 'R', 'R', '1'};
constexpr uint32_t kArrayFormat = 1;
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8;

template <typename T>
constexpr uint32_t TypeCode() {
  if constexpr (std::is_same_v<T, float>) return 1;
  if constexpr (std::is_same_v<T, int32_t>) return 2;
  if constexpr (std::is_same_v<T, int64_t>) return 3;
  return 0;
}

// Seed of the array checksums (FNV-1a 64 continued from this value). Part of
// the on-disk format of the .bin arrays: do not change.
constexpr uint64_t kChecksumSeed = 1469598103934665603ull;
uint64_t Checksum(const void* data, size_t n) { return Fnv1a64(kChecksumSeed, data, n); }

std::string JsonTypeName(const nlohmann::json& v) { return v.dump(); }

template <typename T>
Status WriteArray(const std::string& path, std::span<const T> values) {
  std::error_code ec;
  const std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  if (ec) return UnavailableError(fmt::format("cannot create folder of {}: {}", path, ec.message()));
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return UnavailableError(fmt::format("cannot write {}", tmp));
    const uint32_t format = kArrayFormat, type = TypeCode<T>();
    const uint64_t count = values.size();
    f.write(kArrayMagic, sizeof(kArrayMagic));
    f.write(reinterpret_cast<const char*>(&format), 4);
    f.write(reinterpret_cast<const char*>(&type), 4);
    f.write(reinterpret_cast<const char*>(&count), 8);
    const char* bytes = reinterpret_cast<const char*>(values.data());
    const size_t n = values.size() * sizeof(T);
    f.write(bytes, static_cast<std::streamsize>(n));
    const uint64_t hash = Checksum(bytes, n);
    f.write(reinterpret_cast<const char*>(&hash), 8);
    f.flush();
    if (!f) return UnavailableError(fmt::format("write failed: {}", tmp));
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) return UnavailableError(fmt::format("cannot rename {}: {}", tmp, ec.message()));
  return OkStatus();
}

template <typename T>
StatusOr<std::vector<T>> ReadArray(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path));
  if (bytes.size() < kHeaderBytes + 8 || std::memcmp(bytes.data(), kArrayMagic, 8) != 0) {
    return DataLossError(fmt::format("{}: not a souk array file (bad header)", path));
  }
  uint32_t format = 0, type = 0;
  uint64_t count = 0;
  std::memcpy(&format, bytes.data() + 8, 4);
  std::memcpy(&type, bytes.data() + 12, 4);
  std::memcpy(&count, bytes.data() + 16, 8);
  if (format != kArrayFormat) {
    return DataLossError(fmt::format("{}: array format {} (expected {})", path, format,
                                     kArrayFormat));
  }
  if (type != TypeCode<T>()) {
    return DataLossError(fmt::format("{}: element type code {} (expected {})", path, type,
                                     TypeCode<T>()));
  }
  if (count > (bytes.size() - kHeaderBytes - 8) / sizeof(T) ||
      bytes.size() != kHeaderBytes + count * sizeof(T) + 8) {
    return DataLossError(fmt::format("{}: truncated or oversized ({} bytes for {} elements)", path,
                                     bytes.size(), count));
  }
  const char* payload = bytes.data() + kHeaderBytes;
  uint64_t stored = 0;
  std::memcpy(&stored, payload + count * sizeof(T), 8);
  if (stored != Checksum(payload, count * sizeof(T))) {
    return DataLossError(fmt::format("{}: checksum mismatch (corrupt file)", path));
  }
  std::vector<T> out(count);
  if (count > 0) std::memcpy(out.data(), payload, count * sizeof(T));
  return out;
}

}  // namespace

// ---- options ---------------------------------------------------------------

Status OptionReader::CheckKeys(std::span<const std::string_view> known) const {
  return CheckOptionKeys(options_, known, source_);
}

const nlohmann::json* OptionReader::Find(std::string_view key) const {
  if (!options_.is_object()) return nullptr;
  auto it = options_.find(std::string(key));
  if (it == options_.end() || it->is_null()) return nullptr;
  return &*it;
}

Status OptionReader::Error(std::string_view key, const std::string& what) const {
  return InvalidArgumentError(fmt::format("{}: option '{}' {}", source_, key, what));
}

Status OptionReader::Double(std::string_view key, double* out, double min, double max,
                            bool min_exclusive) const {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return OkStatus();
  if (!v->is_number()) return Error(key, "must be a number (got " + JsonTypeName(*v) + ")");
  const double x = v->get<double>();
  const bool low = min_exclusive ? !(x > min) : !(x >= min);
  if (!std::isfinite(x) || low || x > max) {
    return Error(key, fmt::format("must be in {}{}, {}] (got {})", min_exclusive ? "(" : "[", min,
                                  max, x));
  }
  *out = x;
  return OkStatus();
}

Status OptionReader::Float(std::string_view key, float* out, double min, double max,
                           bool min_exclusive) const {
  double x = *out;
  RETURN_IF_ERROR(Double(key, &x, min, max, min_exclusive));
  *out = static_cast<float>(x);
  return OkStatus();
}

Status OptionReader::Int(std::string_view key, int* out, int64_t min, int64_t max) const {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return OkStatus();
  if (!v->is_number_integer()) {
    return Error(key, "must be an integer (got " + JsonTypeName(*v) + ")");
  }
  const int64_t x = v->is_number_unsigned()
                        ? static_cast<int64_t>(std::min<uint64_t>(
                              v->get<uint64_t>(), std::numeric_limits<int64_t>::max()))
                        : v->get<int64_t>();
  if (x < min || x > max) {
    return Error(key, fmt::format("must be in [{}, {}] (got {})", min, max, x));
  }
  *out = static_cast<int>(x);
  return OkStatus();
}

Status OptionReader::Bool(std::string_view key, bool* out) const {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return OkStatus();
  if (!v->is_boolean()) return Error(key, "must be true or false (got " + JsonTypeName(*v) + ")");
  *out = v->get<bool>();
  return OkStatus();
}

Status OptionReader::Choice(std::string_view key, std::string* out,
                           std::span<const std::string_view> allowed) const {
  const nlohmann::json* v = Find(key);
  if (v == nullptr) return OkStatus();
  std::string list;
  for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  if (!v->is_string() ||
      std::find(allowed.begin(), allowed.end(), v->get<std::string>()) == allowed.end()) {
    return Error(key, fmt::format("must be one of {} (got {})", list, JsonTypeName(*v)));
  }
  *out = v->get<std::string>();
  return OkStatus();
}

// ---- files -----------------------------------------------------------------

StatusOr<std::string> ReadFileBytes(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return NotFoundError(fmt::format("missing file {}", path));
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) return UnavailableError(fmt::format("cannot open {}", path));
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  f.seekg(0, std::ios::beg);
  std::string bytes(static_cast<size_t>(std::max<std::streamoff>(size, 0)), '\0');
  f.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) return UnavailableError(fmt::format("read failed: {}", path));
  return bytes;
}

Status WriteManifest(const std::string& dir, std::string_view kind, int format_version,
                     int64_t num_items, const nlohmann::json& extra) {
  nlohmann::json m = nlohmann::json::object();
  m["kind"] = std::string(kind);
  m["format_version"] = format_version;
  m["num_items"] = num_items;
  if (extra.is_object()) {
    for (const auto& [k, v] : extra.items()) m[k] = v;
  }
  return WriteFileAtomically(std::filesystem::path(dir) / "manifest.json", m.dump(2) + "\n");
}

StatusOr<nlohmann::json> ReadManifest(const std::string& dir, std::string_view kind,
                                      int format_version, int64_t num_items) {
  const std::string path = (std::filesystem::path(dir) / "manifest.json").string();
  ASSIGN_OR_RETURN(std::string text, ReadFileBytes(path));
  nlohmann::json m = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!m.is_object()) return DataLossError(fmt::format("{}: not a JSON object", path));
  const auto kind_it = m.find("kind");
  if (kind_it == m.end() || !kind_it->is_string() || kind_it->get<std::string>() != kind) {
    return FailedPreconditionError(
        fmt::format("{}: kind {} is not '{}'", path,
                    kind_it == m.end() ? std::string("(missing)") : kind_it->dump(), kind));
  }
  const auto fv = m.find("format_version");
  if (fv == m.end() || !fv->is_number_integer() || fv->get<int64_t>() != format_version) {
    return FailedPreconditionError(
        fmt::format("{}: format_version {} of '{}' cannot be read (this build reads {})", path,
                    fv == m.end() ? std::string("(missing)") : fv->dump(), kind, format_version));
  }
  const auto ni = m.find("num_items");
  if (ni == m.end() || !ni->is_number_integer() || ni->get<int64_t>() != num_items) {
    return FailedPreconditionError(fmt::format(
        "{}: fitted on {} items but the data has {} (load with the data it was fitted on)", path,
        ni == m.end() ? std::string("(missing)") : ni->dump(), num_items));
  }
  return m;
}

Status WriteFloatArray(const std::string& path, std::span<const float> values) {
  return WriteArray<float>(path, values);
}
Status WriteInt32Array(const std::string& path, std::span<const int32_t> values) {
  return WriteArray<int32_t>(path, values);
}
Status WriteInt64Array(const std::string& path, std::span<const int64_t> values) {
  return WriteArray<int64_t>(path, values);
}
StatusOr<std::vector<float>> ReadFloatArray(const std::string& path) {
  return ReadArray<float>(path);
}
StatusOr<std::vector<int32_t>> ReadInt32Array(const std::string& path) {
  return ReadArray<int32_t>(path);
}
StatusOr<std::vector<int64_t>> ReadInt64Array(const std::string& path) {
  return ReadArray<int64_t>(path);
}

// ---- sparse rows -----------------------------------------------------------

Status SaveSparseRows(const std::string& dir, std::string_view prefix, const SparseRows& rows) {
  const std::filesystem::path d(dir);
  const std::string p(prefix);
  RETURN_IF_ERROR(WriteInt64Array((d / (p + "_offsets.bin")).string(), rows.offsets));
  RETURN_IF_ERROR(WriteInt32Array((d / (p + "_cols.bin")).string(), rows.cols));
  RETURN_IF_ERROR(WriteFloatArray((d / (p + "_values.bin")).string(), rows.values));
  RETURN_IF_ERROR(WriteFloatArray((d / (p + "_extra.bin")).string(), rows.extra));
  return OkStatus();
}

StatusOr<SparseRows> LoadSparseRows(const std::string& dir, std::string_view prefix,
                                    int64_t expected_rows, int64_t num_cols) {
  const std::filesystem::path d(dir);
  const std::string p(prefix);
  SparseRows r;
  const std::string offsets_path = (d / (p + "_offsets.bin")).string();
  ASSIGN_OR_RETURN(r.offsets, ReadInt64Array(offsets_path));
  ASSIGN_OR_RETURN(r.cols, ReadInt32Array((d / (p + "_cols.bin")).string()));
  ASSIGN_OR_RETURN(r.values, ReadFloatArray((d / (p + "_values.bin")).string()));
  ASSIGN_OR_RETURN(r.extra, ReadFloatArray((d / (p + "_extra.bin")).string()));
  if (r.offsets.empty() || r.rows() != expected_rows || r.offsets.front() != 0 ||
      r.offsets.back() != static_cast<int64_t>(r.cols.size()) ||
      r.values.size() != r.cols.size() || (!r.extra.empty() && r.extra.size() != r.cols.size())) {
    return DataLossError(fmt::format("{}: sparse rows do not match (rows {} expected {}, {} cols)",
                                     offsets_path, r.rows(), expected_rows, r.cols.size()));
  }
  for (int64_t i = 0; i < r.rows(); ++i) {
    if (r.offsets[i] > r.offsets[i + 1]) {
      return DataLossError(fmt::format("{}: offsets decrease at row {}", offsets_path, i));
    }
  }
  for (int32_t c : r.cols) {
    if (c < 0 || c >= num_cols) {
      return DataLossError(fmt::format("{}: column {} out of range [0, {})", offsets_path, c,
                                       num_cols));
    }
  }
  return r;
}

// ---- requests --------------------------------------------------------------

std::vector<HistoryEvent> RecentValidHistory(const RecommendRequest& request, int32_t num_items,
                                             int max_events) {
  std::vector<HistoryEvent> out;
  if (max_events <= 0) return out;
  for (auto it = request.history.rbegin();
       it != request.history.rend() && static_cast<int>(out.size()) < max_events; ++it) {
    if (it->item >= 0 && it->item < num_items) out.push_back(*it);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<Seed> RequestSeeds(const RecommendRequest& request, int32_t num_items,
                               int max_history, double recency_decay, double context_weight) {
  std::vector<Seed> seeds;
  std::unordered_map<int32_t, size_t> where;
  auto add = [&](int32_t item, double w) {
    if (w <= 0) return;
    auto [it, inserted] = where.emplace(item, seeds.size());
    if (inserted) {
      seeds.push_back({item, static_cast<float>(w)});
    } else {
      seeds[it->second].weight += static_cast<float>(w);
    }
  };
  for (int32_t item : request.items) {
    if (item >= 0 && item < num_items) add(item, context_weight);
  }
  const std::vector<HistoryEvent> history = RecentValidHistory(request, num_items, max_history);
  double decay = 1.0;
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    const float w = ImplicitWeight(it->type);
    if (w <= 0) continue;
    add(it->item, decay * w);
    decay *= recency_decay;
  }
  std::sort(seeds.begin(), seeds.end(), [](const Seed& a, const Seed& b) {
    return a.weight > b.weight || (a.weight == b.weight && a.item < b.item);
  });
  return seeds;
}

bool InCategory(std::string_view category, std::string_view prefix) {
  if (prefix.empty()) return true;
  if (category.size() < prefix.size() || category.substr(0, prefix.size()) != prefix) return false;
  return category.size() == prefix.size() || category.substr(prefix.size()).starts_with(" > ");
}

std::string_view TopLevelCategory(std::string_view category) {
  const size_t pos = category.find(" > ");
  return pos == std::string_view::npos ? category : category.substr(0, pos);
}

int ClampK(int k, int64_t limit) {
  if (k <= 0 || limit <= 0) return 0;
  return static_cast<int>(std::min<int64_t>(k, limit));
}

}  // namespace souk::recommend::internal
