// The `souk eval` frame: an EvalProtocol runs one fixed protocol of
// ../shared/EVAL.md and returns an EvalReport; a ProtocolRegistry holds the
// protocols of this build by (task, name), filled at start-up by explicit
// registration calls (see builtin_protocols.h). Start here when adding a protocol.
//
// Adding a protocol = one class implementing EvalProtocol + one line in
// RegisterBuiltinProtocols. The flags of the EVAL.md command table are defined
// once by the frame (EvalInputs) and reach every protocol through EvalContext;
// AddOptions is only for flags specific to one protocol.
//
// Thread-safety: the registry is filled once, then read-only. Protocols run one
// at a time.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/progress.h"
#include "common/status.h"

namespace souk::eval {

// The four task subcommands of `souk eval`.
inline constexpr std::string_view kTaskSearch = "search";
inline constexpr std::string_view kTaskRec = "rec";
inline constexpr std::string_view kTaskIntent = "intent";
inline constexpr std::string_view kTaskNer = "ner";
// {"search", "rec", "intent", "ner"}.
std::vector<std::string> EvalTasks();

// The data flags of the EVAL.md command table (paths are used as given).
struct EvalInputs {
  // search (A)
  std::string products;         // --products FILE
  std::string judgments;        // --judgments FILE
  std::string train_judgments;  // --train-judgments FILE (empty: cross-fit)
  // rec (B, C, F) and intent (online-shoppers)
  std::vector<std::string> data;  // --data FILE (repeatable; F concatenates)
  std::string dir;                // --dir DIR (C)
  std::string cutoff;             // --cutoff YYYY-MM-DD (F)
  // intent (D)
  std::string events;  // --events FILE (rees46)
  // ner (E)
  std::string train;                    // --train FILE
  std::string dev;                      // --dev FILE
  std::string test;                     // --test FILE
  std::vector<std::string> gazetteers;  // --gazetteer FILE (repeatable)
};

// Everything a protocol run may use. Not owned pointers must outlive the run.
struct EvalContext {
  std::string task;  // "search" | "rec" | "intent" | "ner"
  EvalInputs inputs;
  std::string data_dir = "./souk-data";  // --data-dir (models, reports)
  ProgressOptions progress;              // progress bars/lines (stderr)
  const Clock* clock = nullptr;          // nullptr = real clock
};

// The outcome of one protocol run.
struct EvalReport {
  std::string protocol;                   // EvalProtocol::Name()
  std::string task;                       // EvalProtocol::Task()
  std::string dataset;                    // e.g. the data file's stem ("Beauty")
  std::map<std::string, double> metrics;  // EVAL.md metric keys
  std::map<std::string, std::map<std::string, double>> ablations;  // variant -> metrics
  double seconds = 0;    // wall time of Run (set by RunProtocol)
  nlohmann::json extra;  // optional extra data (curves); null when none
};

// One evaluation protocol. Implementations own the storage of their own flags.
class EvalProtocol {
 public:
  virtual ~EvalProtocol() = default;
  // The --protocol value, e.g. "amazon-seq". Unique within its task.
  virtual std::string Name() const = 0;
  // "search" | "rec" | "intent" | "ner".
  virtual std::string Task() const = 0;
  // One line for --help.
  virtual std::string Description() const = 0;
  // Adds flags specific to this protocol to the task subcommand `cmd`. All the
  // protocols of a task share `cmd`, so names must be unique within the task
  // (prefix them, e.g. --seq-model). Default: none.
  virtual void AddOptions(CLI::App* cmd) {}
  // Runs the protocol. Errors: NotFound / InvalidArgument naming the flag and
  // path for missing or malformed inputs; DataLoss for corrupt data files.
  virtual StatusOr<EvalReport> Run(const EvalContext& ctx) = 0;
};

// Protocols of this build, by (task, name). Also knows protocols that are
// planned but not implemented yet, so that asking for one gives a clear message.
class ProtocolRegistry {
 public:
  // InvalidArgument for an unknown task; AlreadyExists for a duplicate name.
  Status Register(std::unique_ptr<EvalProtocol> protocol);
  // Declares a protocol of EVAL.md that this build does not implement yet;
  // `where` says where it will come from (e.g. "the product-search issue").
  Status DeclarePlanned(std::string_view task, std::string_view name, std::string_view where);

  // The protocol to run. Errors: Unimplemented "protocol X is not available in
  // this build yet (see ...)" for a planned one; NotFound listing the known
  // protocols of the task for anything else.
  StatusOr<EvalProtocol*> Find(std::string_view task, std::string_view name) const;
  // The implemented protocols of a task, in registration order.
  std::vector<EvalProtocol*> ProtocolsOf(std::string_view task) const;
  // Implemented and planned names of a task ("name" / "name (planned)").
  std::vector<std::string> KnownNames(std::string_view task) const;
  // The protocol to use when --protocol is omitted: the only known (implemented
  // or planned) name of the task, or "" when there are several or none.
  std::string DefaultProtocol(std::string_view task) const;

 private:
  struct Planned {
    std::string task, name, where;
  };
  std::vector<std::unique_ptr<EvalProtocol>> protocols_;
  std::vector<Planned> planned_;
};

// Runs `protocol`, sets report.protocol/task and the wall-clock seconds.
StatusOr<EvalReport> RunProtocol(EvalProtocol& protocol, const EvalContext& ctx);

// The contract JSON object {"protocol","dataset","metrics","ablations","seconds"};
// with `full` also "task" and "extra" (when not null), for saved reports.
// Non-finite metric values are written as null; integral values of keys that
// start with "n_" (counts) as integers.
nlohmann::json ReportToJson(const EvalReport& report, bool full);
// A readable table of the metrics and ablations (for the terminal).
std::string FormatReportTable(const EvalReport& report);
// Writes ReportToJson(report, true) to
// <data_dir>/reports/eval-<protocol>-<UTC YYYYMMDDTHHMMSSZ>.json (creating the
// folders; a "-2", "-3"... suffix avoids overwriting) and returns the path.
// Errors: Unavailable naming the path when the folder or file cannot be written.
StatusOr<std::string> SaveReport(const EvalReport& report, const std::string& data_dir,
                                 int64_t now_unix_micros);

// Checks an input flag: InvalidArgument "--flag is required for protocol P" when
// `path` is empty; NotFound "--flag: no such file: PATH" when it does not exist
// (or is a directory when `want_dir` is false, or not a directory when true).
Status RequireInputPath(std::string_view flag, const std::string& path, std::string_view protocol,
                        bool want_dir = false);
// The file name without folders and last extension ("data/Beauty.txt" -> "Beauty").
std::string DatasetName(const std::string& path);

}  // namespace souk::eval
