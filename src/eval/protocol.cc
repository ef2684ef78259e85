#include "eval/protocol.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace souk::eval {
namespace fs = std::filesystem;

std::vector<std::string> EvalTasks() {
  return {std::string(kTaskSearch), std::string(kTaskRec), std::string(kTaskIntent),
          std::string(kTaskNer)};
}

namespace {
bool IsTask(std::string_view task) {
  const auto tasks = EvalTasks();
  return std::find(tasks.begin(), tasks.end(), task) != tasks.end();
}
}  // namespace

Status ProtocolRegistry::Register(std::unique_ptr<EvalProtocol> protocol) {
  const std::string task = protocol->Task();
  const std::string name = protocol->Name();
  if (!IsTask(task)) {
    return InvalidArgumentError(fmt::format("protocol {}: unknown task '{}'", name, task));
  }
  for (const auto& p : protocols_) {
    if (p->Task() == task && p->Name() == name) {
      return AlreadyExistsError(fmt::format("protocol {} {} is registered twice", task, name));
    }
  }
  // An implementation replaces a planned declaration of the same name.
  std::erase_if(planned_, [&](const Planned& p) { return p.task == task && p.name == name; });
  protocols_.push_back(std::move(protocol));
  return OkStatus();
}

Status ProtocolRegistry::DeclarePlanned(std::string_view task, std::string_view name,
                                        std::string_view where) {
  if (!IsTask(task)) {
    return InvalidArgumentError(fmt::format("protocol {}: unknown task '{}'", name, task));
  }
  for (const auto& p : protocols_) {
    if (p->Task() == task && p->Name() == name) return OkStatus();  // already implemented
  }
  for (const auto& p : planned_) {
    if (p.task == task && p.name == name) {
      return AlreadyExistsError(fmt::format("protocol {} {} is declared twice", task, name));
    }
  }
  planned_.push_back({std::string(task), std::string(name), std::string(where)});
  return OkStatus();
}

StatusOr<EvalProtocol*> ProtocolRegistry::Find(std::string_view task, std::string_view name) const {
  for (const auto& p : protocols_) {
    if (p->Task() == task && p->Name() == name) return p.get();
  }
  for (const auto& p : planned_) {
    if (p.task == task && p.name == name) {
      return UnimplementedError(
          fmt::format("protocol {} is not available in this build yet (see {})", name, p.where));
    }
  }
  const auto known = KnownNames(task);
  if (name.empty()) {
    return InvalidArgumentError(
        fmt::format("souk eval {}: --protocol is required; known: {}", task,
                    known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", "))));
  }
  return NotFoundError(
      fmt::format("unknown protocol '{}' for `souk eval {}`; known: {}", name, task,
                  known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", "))));
}

std::vector<EvalProtocol*> ProtocolRegistry::ProtocolsOf(std::string_view task) const {
  std::vector<EvalProtocol*> out;
  for (const auto& p : protocols_) {
    if (p->Task() == task) out.push_back(p.get());
  }
  return out;
}

std::vector<std::string> ProtocolRegistry::KnownNames(std::string_view task) const {
  std::vector<std::string> out;
  for (const auto& p : protocols_) {
    if (p->Task() == task) out.push_back(p->Name());
  }
  for (const auto& p : planned_) {
    if (p.task == task) out.push_back(p.name + " (planned)");
  }
  return out;
}

std::string ProtocolRegistry::DefaultProtocol(std::string_view task) const {
  std::vector<std::string> names;
  for (const auto& p : protocols_) {
    if (p->Task() == task) names.push_back(p->Name());
  }
  for (const auto& p : planned_) {
    if (p.task == task) names.push_back(p.name);
  }
  return names.size() == 1 ? names[0] : std::string();
}

StatusOr<EvalReport> RunProtocol(EvalProtocol& protocol, const EvalContext& ctx) {
  const Clock& clock = ctx.clock != nullptr ? *ctx.clock : RealClock();
  const int64_t start = clock.MonotonicMicros();
  ASSIGN_OR_RETURN(EvalReport report, protocol.Run(ctx));
  report.protocol = protocol.Name();
  report.task = protocol.Task();
  report.seconds = static_cast<double>(clock.MonotonicMicros() - start) / 1e6;
  return report;
}

namespace {
nlohmann::json MetricsToJson(const std::map<std::string, double>& metrics) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : metrics) {
    if (!std::isfinite(value)) {
      out[key] = nullptr;
    } else if (key.starts_with("n_") && value == std::floor(value) && std::abs(value) < 9e15) {
      out[key] = static_cast<int64_t>(value);  // counts print as integers
    } else {
      out[key] = value;
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (!std::isfinite(v)) return "n/a";
  if (v == std::floor(v) && std::abs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{:#.4g}", v);
}
}  // namespace

nlohmann::json ReportToJson(const EvalReport& report, bool full) {
  nlohmann::json j = nlohmann::json::object();
  j["protocol"] = report.protocol;
  j["dataset"] = report.dataset;
  j["metrics"] = MetricsToJson(report.metrics);
  nlohmann::json ablations = nlohmann::json::object();
  for (const auto& [name, metrics] : report.ablations) ablations[name] = MetricsToJson(metrics);
  j["ablations"] = std::move(ablations);
  j["seconds"] = report.seconds;
  if (full) {
    j["task"] = report.task;
    if (!report.extra.is_null()) j["extra"] = report.extra;
  }
  return j;
}

std::string FormatReportTable(const EvalReport& report) {
  // Columns: one per metric key (union over the main metrics and ablations).
  std::vector<std::string> keys;
  auto add_keys = [&keys](const std::map<std::string, double>& m) {
    for (const auto& [k, v] : m) {
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
    }
  };
  add_keys(report.metrics);
  for (const auto& [name, m] : report.ablations) add_keys(m);

  std::vector<std::pair<std::string, const std::map<std::string, double>*>> rows;
  rows.emplace_back("(main)", &report.metrics);
  for (const auto& [name, m] : report.ablations) rows.emplace_back(name, &m);

  size_t name_width = 8;
  for (const auto& [name, m] : rows) name_width = std::max(name_width, name.size());
  std::vector<size_t> widths;
  for (const auto& k : keys) widths.push_back(std::max<size_t>(k.size(), 8));

  std::string out = fmt::format("protocol {} ({}), dataset {}, {:.1f} s\n", report.protocol,
                                report.task, report.dataset, report.seconds);
  out += fmt::format("{:<{}}", "variant", name_width);
  for (size_t i = 0; i < keys.size(); ++i) out += fmt::format("  {:>{}}", keys[i], widths[i]);
  out += "\n";
  for (const auto& [name, m] : rows) {
    out += fmt::format("{:<{}}", name, name_width);
    for (size_t i = 0; i < keys.size(); ++i) {
      auto it = m->find(keys[i]);
      out += fmt::format("  {:>{}}", it == m->end() ? "-" : FormatValue(it->second), widths[i]);
    }
    out += "\n";
  }
  return out;
}

StatusOr<std::string> SaveReport(const EvalReport& report, const std::string& data_dir,
                                 int64_t now_unix_micros) {
  const fs::path dir = fs::path(data_dir) / "reports";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return UnavailableError(
        fmt::format("cannot create report folder {}: {}", dir.string(), ec.message()));
  }
  const std::time_t t = static_cast<std::time_t>(now_unix_micros / 1'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
  const std::string base = fmt::format("eval-{}-{}", report.protocol, stamp);
  fs::path path = dir / (base + ".json");
  for (int n = 2; fs::exists(path, ec); ++n) path = dir / fmt::format("{}-{}.json", base, n);

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return UnavailableError(fmt::format("cannot write report {}", path.string()));
  out << ReportToJson(report, true).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
      << "\n";
  out.close();
  if (!out) return UnavailableError(fmt::format("error writing report {}", path.string()));
  return path.string();
}

Status RequireInputPath(std::string_view flag, const std::string& path, std::string_view protocol,
                        bool want_dir) {
  if (path.empty()) {
    return InvalidArgumentError(fmt::format("{} is required for protocol {}", flag, protocol));
  }
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return NotFoundError(fmt::format("{}: no such file: {}", flag, path));
  if (want_dir && !fs::is_directory(st)) {
    return InvalidArgumentError(fmt::format("{}: not a directory: {}", flag, path));
  }
  if (!want_dir && fs::is_directory(st)) {
    return InvalidArgumentError(fmt::format("{}: is a directory, expected a file: {}", flag, path));
  }
  return OkStatus();
}

std::string DatasetName(const std::string& path) { return fs::path(path).stem().string(); }

}  // namespace souk::eval
