// Clean(): explicit removal of bot-like sessions/users and exact duplicates.
#include <algorithm>
#include <unordered_set>

#include "ingest/quality.h"
#include "ingest/quality_internal.h"

namespace souk::quality {

StatusOr<CleanResult> Clean(store::Store& store, const QualityOptions& quality_options,
                            const CleanOptions& options, Progress* progress) {
  if (!options.drop_bot_sessions && !options.drop_bot_users && !options.dedupe) {
    return InvalidArgumentError(
        "clean: no rule selected; choose at least one of --drop-bot-sessions, --drop-bot-users, --dedupe");
  }
  CleanResult result;
  result.dry_run = options.dry_run;
  {
    ASSIGN_OR_RETURN(std::unique_ptr<store::Snapshot> snapshot, store.OpenSnapshot());
    std::unordered_set<std::string> sessions;
    std::unordered_set<int64_t> users;
    if (options.drop_bot_sessions || options.drop_bot_users) {
      ASSIGN_OR_RETURN(QualityReport report, ComputeQuality(*snapshot, store, quality_options, progress));
      if (options.drop_bot_sessions) {
        result.sessions = report.anomalies.bot_session_ids;
        result.bot_sessions_without_id = report.anomalies.bot_sessions_without_id;
        sessions.insert(result.sessions.begin(), result.sessions.end());
      }
      if (options.drop_bot_users) {
        result.users = report.anomalies.bot_user_ids;
        ASSIGN_OR_RETURN(std::vector<std::string> ids, snapshot->UserIds());
        std::unordered_set<std::string> wanted(result.users.begin(), result.users.end());
        for (size_t i = 1; i < ids.size(); ++i) {
          if (wanted.count(ids[i])) users.insert(static_cast<int64_t>(i));
        }
      }
    }
    // Predict what RemoveEvents will do: sessions, then users, then duplicates of the rest.
    std::vector<uint64_t> hashes;
    RETURN_IF_ERROR(snapshot->ForEachEvent([&](const store::StoredEvent& e) {
      ++result.events_before;
      if ((!e.session.empty() && sessions.count(e.session)) || (e.user != 0 && users.count(e.user))) {
        ++result.predicted_removed;
      } else if (options.dedupe) {
        hashes.push_back(internal::EventKeyHash(e));
      }
      return true;
    }));
    if (options.dedupe) {
      result.duplicate_events = internal::CountRepeats(&hashes);
      result.predicted_removed += result.duplicate_events;
    }
  }  // the snapshot's read transaction ends here
  if (options.dry_run) {
    result.events_after = result.events_before;
    return result;
  }
  store::EventFilter filter;
  filter.sessions = result.sessions;
  filter.users = result.users;
  filter.exact_duplicates = options.dedupe;
  ASSIGN_OR_RETURN(result.removed, store.RemoveEvents(filter));
  ASSIGN_OR_RETURN(store::StoreStats stats, store.Stats());
  result.events_after = stats.events;
  return result;
}

}  // namespace souk::quality
