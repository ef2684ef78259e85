#include "registry/job_runner.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <exception>

namespace souk::registry {

nlohmann::json JobInfo::ToJson() const {
  nlohmann::json j = {{"id", id},
                      {"kind", kind},
                      {"state", state},
                      {"trigger", trigger},
                      {"queued_ms", queued_ms},
                      {"started_ms", started_ms},
                      {"finished_ms", finished_ms},
                      {"progress", progress},
                      {"message", message}};
  if (!result.is_null()) j["result"] = result;
  return j;
}

void JobContext::SetProgress(double fraction, std::string message) {
  runner_->SetProgress(id_, fraction, std::move(message));
}

JobRunner::JobRunner(Options o) : options_(o), clock_(o.clock != nullptr ? *o.clock : RealClock()) {
  worker_ = std::thread([this] { WorkerLoop(); });
  if (options_.start_schedule_thread) scheduler_ = std::thread([this] { ScheduleLoop(); });
}

JobRunner::~JobRunner() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    while (!queue_.empty()) {
      const int64_t id = queue_.front();
      queue_.pop_front();
      auto it = jobs_.find(id);
      if (it != jobs_.end())
        FinishLocked(*it->second, "cancelled", "cancelled: the job runner stopped", nullptr);
    }
    if (running_id_ != 0) {
      auto it = jobs_.find(running_id_);
      if (it != jobs_.end()) it->second->cancelled->store(true);
    }
  }
  work_cv_.notify_all();
  schedule_cv_.notify_all();
  done_cv_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
  if (worker_.joinable()) worker_.join();
}

int64_t JobRunner::Submit(const std::string& kind, const std::string& trigger, JobFn fn) {
  std::lock_guard<std::mutex> lock(mu_);
  for (int64_t queued : queue_) {
    auto it = jobs_.find(queued);
    if (it != jobs_.end() && it->second->info.kind == kind) return queued;
  }
  auto job = std::make_unique<Job>();
  const int64_t id = next_id_++;
  job->info.id = id;
  job->info.kind = kind;
  job->info.trigger = trigger;
  job->info.state = "queued";
  job->info.queued_ms = clock_.NowMillis();
  job->fn = std::move(fn);
  Job& ref = *job;
  jobs_.emplace(id, std::move(job));
  if (stopping_) {
    FinishLocked(ref, "cancelled", "cancelled: the job runner is stopping", nullptr);
  } else if (!ref.fn) {
    FinishLocked(ref, "failed", "INVALID_ARGUMENT: empty job function", nullptr);
  } else {
    queue_.push_back(id);
    work_cv_.notify_one();
  }
  TrimHistoryLocked();
  return id;
}

Status JobRunner::Cancel(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return NotFoundError(fmt::format("job {}: no such job", id));
  Job& job = *it->second;
  if (job.info.finished()) {
    return FailedPreconditionError(fmt::format("job {}: already {}", id, job.info.state));
  }
  job.cancelled->store(true);
  if (job.info.state == "queued") {
    queue_.erase(std::remove(queue_.begin(), queue_.end(), id), queue_.end());
    FinishLocked(job, "cancelled", "cancelled before it started", nullptr);
    TrimHistoryLocked();
  }
  return OkStatus();
}

std::optional<JobInfo> JobRunner::Get(int64_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second->info;
}

std::vector<JobInfo> JobRunner::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<JobInfo> out;
  out.reserve(jobs_.size());
  for (auto it = jobs_.rbegin(); it != jobs_.rend(); ++it) out.push_back(it->second->info);
  return out;
}

std::optional<JobInfo> JobRunner::Wait(int64_t id, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return std::nullopt;
    if (it->second->info.finished()) return it->second->info;
    if (done_cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      it = jobs_.find(id);
      if (it == jobs_.end()) return std::nullopt;
      return it->second->info;
    }
  }
}

void JobRunner::AddSchedule(const std::string& kind, Schedule schedule, JobFn fn) {
  if (schedule.off() || !fn) return;
  const int64_t now = clock_.NowMillis();
  {
    std::lock_guard<std::mutex> lock(mu_);
    ScheduleEntry e;
    e.kind = kind;
    e.next_ms = schedule.Next(now).value_or(0);
    e.schedule = std::move(schedule);
    e.fn = std::move(fn);
    schedules_.push_back(std::move(e));
  }
  schedule_cv_.notify_all();
}

std::vector<int64_t> JobRunner::Tick(int64_t now_ms) {
  std::vector<std::pair<std::string, JobFn>> due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return {};
    for (ScheduleEntry& e : schedules_) {
      if (e.next_ms > now_ms) continue;
      due.emplace_back(e.kind, e.fn);
      e.next_ms = e.schedule.Next(now_ms).value_or(0);
    }
  }
  std::vector<int64_t> ids;
  for (auto& [kind, fn] : due) {
    const int64_t id = Submit(kind, "schedule", std::move(fn));
    spdlog::info("schedule: {} submitted as job {}", kind, id);
    ids.push_back(id);
  }
  return ids;
}

nlohmann::json JobRunner::Schedules() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json out = nlohmann::json::array();
  for (const ScheduleEntry& e : schedules_) {
    out.push_back({{"kind", e.kind}, {"schedule", e.schedule.ToString()}, {"next_ms", e.next_ms}});
  }
  return out;
}

nlohmann::json JobRunner::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json kinds = nlohmann::json::object();
  for (const auto& [kind, s] : stats_) {
    kinds[kind] = {{"succeeded", s.succeeded},
                   {"failed", s.failed},
                   {"cancelled", s.cancelled},
                   {"last_duration_s", s.last_duration_s},
                   {"last_finished_ms", s.last_finished_ms},
                   {"last_success_ms", s.last_success_ms},
                   {"last_state", s.last_state}};
  }
  return {{"queued", queue_.size()}, {"running", running_id_ != 0 ? 1 : 0}, {"kinds", kinds}};
}

void JobRunner::SetProgress(int64_t id, double fraction, std::string message) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second->info.state != "running") return;
  JobInfo& info = it->second->info;
  if (!std::isnan(fraction)) info.progress = std::clamp(fraction, 0.0, 1.0);
  if (!message.empty()) info.message = std::move(message);
}

void JobRunner::FinishLocked(Job& job, const std::string& state, std::string message,
                             nlohmann::json result) {
  JobInfo& info = job.info;
  info.state = state;
  info.finished_ms = clock_.NowMillis();
  if (!message.empty()) info.message = std::move(message);
  info.result = std::move(result);
  if (state == "succeeded") info.progress = 1.0;
  job.fn = nullptr;  // release whatever the job captured
  KindStats& s = stats_[info.kind];
  if (state == "succeeded") {
    ++s.succeeded;
    s.last_success_ms = info.finished_ms;
  } else if (state == "failed") {
    ++s.failed;
  } else {
    ++s.cancelled;
  }
  s.last_state = state;
  s.last_finished_ms = info.finished_ms;
  if (info.started_ms > 0) {
    s.last_duration_s = static_cast<double>(info.finished_ms - info.started_ms) / 1000.0;
  }
  done_cv_.notify_all();
}

void JobRunner::TrimHistoryLocked() {
  size_t finished = 0;
  for (const auto& [id, job] : jobs_) finished += job->info.finished() ? 1 : 0;
  for (auto it = jobs_.begin(); it != jobs_.end() && finished > options_.max_history;) {
    if (it->second->info.finished()) {
      it = jobs_.erase(it);
      --finished;
    } else {
      ++it;
    }
  }
}

void JobRunner::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    const int64_t id = queue_.front();
    queue_.pop_front();
    auto it = jobs_.find(id);
    if (it == jobs_.end()) continue;
    Job& job = *it->second;
    job.info.state = "running";
    job.info.started_ms = clock_.NowMillis();
    running_id_ = id;
    const std::string kind = job.info.kind;
    JobFn fn = std::move(job.fn);
    job.fn = nullptr;
    JobContext ctx(this, id, job.cancelled);
    lock.unlock();

    std::string state, message;
    nlohmann::json result;
    try {
      StatusOr<nlohmann::json> r = fn(ctx);
      if (r.ok()) {
        state = "succeeded";
        result = std::move(r).value();
        if (result.is_object() && result.contains("summary") && result["summary"].is_string()) {
          message = result["summary"].get<std::string>();
        }
      } else if (r.status().code() == StatusCode::kCancelled) {
        state = "cancelled";
        message = r.status().message();
      } else {
        state = "failed";
        message = r.status().ToString();
      }
    } catch (const std::exception& e) {
      state = "failed";
      message = fmt::format("exception: {}", e.what());
    } catch (...) {
      state = "failed";
      message = "exception: unknown (not derived from std::exception)";
    }
    fn = nullptr;  // release the job's captures before taking the lock
    if (state == "failed") spdlog::warn("job {} ({}) failed: {}", id, kind, message);

    lock.lock();
    running_id_ = 0;
    it = jobs_.find(id);  // running jobs are never trimmed, but look it up again anyway
    if (it != jobs_.end()) FinishLocked(*it->second, state, std::move(message), std::move(result));
    TrimHistoryLocked();
  }
}

void JobRunner::ScheduleLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    const int64_t now = clock_.NowMillis();
    Tick(now);
    lock.lock();
    if (stopping_) break;
    std::chrono::milliseconds wait = options_.schedule_poll;
    for (const ScheduleEntry& e : schedules_) {
      if (e.next_ms <= 0) continue;
      wait = std::min(wait, std::chrono::milliseconds(std::max<int64_t>(1, e.next_ms - now)));
    }
    schedule_cv_.wait_for(lock, wait);
  }
}

}  // namespace souk::registry
