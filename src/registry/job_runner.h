// JobRunner: background jobs (model training) run one at a time on one worker
// thread, in submission order, with their state kept for status pages, plus
// schedules that submit a job at each Schedule::Next time.
//
// A job is a JobFn: it gets a JobContext (progress reporting, cancellation
// flag) and returns a JSON result or a Status. The runner records the outcome:
//   OK                    -> "succeeded", result = the JSON, message = result["summary"] when
//                            it is a string
//   Cancelled status      -> "cancelled", message = the status message
//   other Status          -> "failed", message = Status::ToString()
//   exception thrown      -> "failed", message = "exception: <what()>" (the worker survives)
//
// Schedules: one schedule thread serves every AddSchedule(). At each wake-up it
// calls Tick(clock.NowMillis()), then sleeps until the earliest due time, but
// never longer than Options::schedule_poll, so a wall clock that jumps (or a
// FakeClock that a test advances) is noticed within one poll. Tests may instead
// set Options::start_schedule_thread = false and drive Tick(now_ms) by hand.
// A schedule whose due time has passed fires once (missed runs are not caught up)
// and its next due time is Schedule::Next(now_ms).
//
// Thread-safety: every method may be called from any thread, including from a
// running job (e.g. a job submitting a follow-up job). Clock must outlive the runner.
// Cost: Submit/Get/List/Stats take one mutex briefly; List copies the history
// (at most max_history finished jobs plus the queue).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/status.h"
#include "registry/schedule.h"

namespace souk::registry {

struct JobInfo {
  int64_t id = 0;
  std::string kind;     // e.g. "train:recommender"
  std::string state;    // "queued" | "running" | "succeeded" | "failed" | "cancelled"
  std::string trigger;  // "api" | "schedule" | "cli" ...
  int64_t queued_ms = 0, started_ms = 0, finished_ms = 0;  // Options::clock wall ms; 0 = not yet
  double progress = 0;    // 0..1, set by the job through its context
  std::string message;    // error text when failed; last progress message or summary otherwise
  nlohmann::json result;  // what the job returned (null until it succeeded)

  bool finished() const {
    return state == "succeeded" || state == "failed" || state == "cancelled";
  }
  nlohmann::json ToJson() const;
};

class JobRunner;

// Handed to a running job. Valid only during the job's call; not copyable.
class JobContext {
 public:
  JobContext(const JobContext&) = delete;
  JobContext& operator=(const JobContext&) = delete;

  // Records progress (clamped to 0..1; NaN ignored) and, when non-empty, a short
  // message shown in JobInfo::message while the job runs. Thread-safe.
  void SetProgress(double fraction, std::string message = "");
  // True once the job was cancelled (JobRunner::Cancel or the runner's
  // destructor). Jobs should poll it between steps and return CancelledError.
  bool cancelled() const { return cancelled_->load(); }
  int64_t job_id() const { return id_; }

 private:
  friend class JobRunner;
  JobContext(JobRunner* runner, int64_t id, std::shared_ptr<std::atomic<bool>> cancelled)
      : runner_(runner), id_(id), cancelled_(std::move(cancelled)) {}

  JobRunner* runner_;
  int64_t id_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
};

using JobFn = std::function<StatusOr<nlohmann::json>(JobContext&)>;

class JobRunner {
 public:
  struct Options {
    // Behavior.
    size_t max_history = 200;           // finished jobs kept for Get/List (oldest dropped first)
    const Clock* clock = nullptr;       // timestamps and schedules; nullptr = RealClock()
    bool start_schedule_thread = true;  // false: schedules fire only through Tick()
    // Performance.
    std::chrono::milliseconds schedule_poll{1000};  // longest sleep of the schedule thread
  };

  explicit JobRunner(Options o);
  JobRunner() : JobRunner(Options{}) {}
  // Cancels queued jobs (state "cancelled"), raises the cancelled flag of the
  // running one and waits for it to return; stops the schedule thread.
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // Queues a job and returns its id (ids start at 1 and increase). When a job of
  // the same kind is already queued (not yet running), returns that job's id and
  // drops `fn` (coalescing). During destruction the job is recorded as cancelled.
  int64_t Submit(const std::string& kind, const std::string& trigger, JobFn fn);

  // Cancels a job: a queued job becomes "cancelled" at once; a running job gets
  // its cancelled flag raised (it ends when it notices). NotFound for an unknown
  // id, FailedPrecondition when the job has already finished.
  Status Cancel(int64_t id);

  // nullopt for an unknown id (or one dropped from the history).
  std::optional<JobInfo> Get(int64_t id) const;
  // Every known job, newest first (highest id first).
  std::vector<JobInfo> List() const;

  // Blocks until job `id` has finished or `timeout` has passed (real time), then
  // returns its info as of that moment: check finished()/state to tell a finished
  // job from a timeout. nullopt for an unknown id.
  std::optional<JobInfo> Wait(int64_t id, std::chrono::milliseconds timeout) const;

  // Adds a schedule: from now on, at each Schedule::Next time, Submit(kind,
  // "schedule", fn). An "off" schedule is ignored. Several schedules may be added.
  void AddSchedule(const std::string& kind, Schedule schedule, JobFn fn);
  // Fires every schedule whose due time is <= now_ms (see the file comment).
  // Returns the ids of the jobs submitted (coalesced ids included).
  std::vector<int64_t> Tick(int64_t now_ms);
  // Each schedule: {"kind", "schedule", "next_ms"}.
  nlohmann::json Schedules() const;

  // Counters for metrics:
  // {"queued": n, "running": n,
  //  "kinds": {kind: {"succeeded": n, "failed": n, "cancelled": n,
  //                   "last_duration_s": x, "last_finished_ms": t, "last_success_ms": t,
  //                   "last_state": "..."}}}
  // (counts since the runner started; not trimmed with the history).
  nlohmann::json Stats() const;

 private:
  friend class JobContext;
  struct Job {
    JobInfo info;
    JobFn fn;
    std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
  };
  struct ScheduleEntry {
    std::string kind;
    Schedule schedule;
    JobFn fn;
    int64_t next_ms = 0;
  };
  struct KindStats {
    int64_t succeeded = 0, failed = 0, cancelled = 0;
    double last_duration_s = 0;
    int64_t last_finished_ms = 0, last_success_ms = 0;
    std::string last_state;
  };

  void WorkerLoop();
  void ScheduleLoop();
  void SetProgress(int64_t id, double fraction, std::string message);
  void FinishLocked(Job& job, const std::string& state, std::string message,
                    nlohmann::json result);  // requires mu_
  void TrimHistoryLocked();                  // requires mu_

  const Options options_;
  const Clock& clock_;

  mutable std::mutex mu_;
  mutable std::condition_variable done_cv_;       // a job finished (Wait)
  std::condition_variable work_cv_;               // queue or stopping_ changed (worker)
  std::condition_variable schedule_cv_;           // schedules or stopping_ changed
  std::map<int64_t, std::unique_ptr<Job>> jobs_;  // GUARDED_BY(mu_); id -> job
  std::deque<int64_t> queue_;                     // GUARDED_BY(mu_); queued ids in order
  int64_t next_id_ = 1;                           // GUARDED_BY(mu_)
  int64_t running_id_ = 0;                        // GUARDED_BY(mu_); 0 = idle
  bool stopping_ = false;                         // GUARDED_BY(mu_)
  std::vector<ScheduleEntry> schedules_;          // GUARDED_BY(mu_)
  std::map<std::string, KindStats> stats_;        // GUARDED_BY(mu_)

  std::thread worker_;
  std::thread scheduler_;
};

}  // namespace souk::registry
