// Prometheus text-format metrics of the server (exposition format 0.0.4):
// request counts per route/method/status, latency histograms per route, plus
// counters and gauges the service sets (ingest rates, index sizes, model
// versions, training durations).
// Thread-safety: all methods are safe to call concurrently (one mutex; the
// hot path takes it once per request).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace souk::server {

class Metrics {
 public:
  // Latency buckets in seconds (upper bounds; +Inf is implicit).
  static const std::vector<double>& Buckets();

  // One finished request. `route` is the route pattern ("/v1/items/{id}"), not the path.
  void ObserveRequest(const std::string& route, const std::string& method, int status, double seconds);
  // counter{labels} += v. `labels` is the Prometheus label text without braces
  // ('kind="recommender"'), "" for none.
  void AddCounter(const std::string& name, const std::string& help, const std::string& labels, double v);
  void SetGauge(const std::string& name, const std::string& help, const std::string& labels, double v);

  // The whole exposition text.
  std::string Render() const;

  // Escapes a label value (backslash, quote, newline).
  static std::string EscapeLabel(const std::string& v);

 private:
  struct Histogram {
    std::vector<uint64_t> counts;  // per bucket (non-cumulative), last = +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  struct Family {
    std::string help, type;
    std::map<std::string, double> values;  // labels -> value
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;  // route, method, status
  std::map<std::string, Histogram> latency_;                               // route
  std::map<std::string, Family> families_;
};

}  // namespace souk::server
