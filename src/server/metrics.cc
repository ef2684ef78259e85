#include "server/metrics.h"

#include <fmt/format.h>

namespace souk::server {

const std::vector<double>& Metrics::Buckets() {
  static const std::vector<double> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                               0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return kBuckets;
}

std::string Metrics::EscapeLabel(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void Metrics::ObserveRequest(const std::string& route, const std::string& method, int status, double seconds) {
  const auto& b = Buckets();
  size_t k = 0;
  while (k < b.size() && seconds > b[k]) ++k;
  std::lock_guard lock(mu_);
  ++requests_[{route, method, status}];
  Histogram& h = latency_[route];
  if (h.counts.empty()) h.counts.assign(b.size() + 1, 0);
  ++h.counts[k];
  h.sum += seconds;
  ++h.count;
}

void Metrics::AddCounter(const std::string& name, const std::string& help, const std::string& labels, double v) {
  std::lock_guard lock(mu_);
  Family& f = families_[name];
  f.help = help;
  f.type = "counter";
  f.values[labels] += v;
}

void Metrics::SetGauge(const std::string& name, const std::string& help, const std::string& labels, double v) {
  std::lock_guard lock(mu_);
  Family& f = families_[name];
  f.help = help;
  f.type = "gauge";
  f.values[labels] = v;
}

std::string Metrics::Render() const {
  std::string out;
  std::lock_guard lock(mu_);
  out += "# HELP souk_http_requests_total HTTP requests by route pattern, method and status.\n";
  out += "# TYPE souk_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, status] = key;
    out += fmt::format("souk_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n",
                       EscapeLabel(route), method, status, n);
  }
  out += "# HELP souk_http_request_duration_seconds Request latency by route pattern.\n";
  out += "# TYPE souk_http_request_duration_seconds histogram\n";
  const auto& b = Buckets();
  for (const auto& [route, h] : latency_) {
    uint64_t cum = 0;
    const std::string r = EscapeLabel(route);
    for (size_t k = 0; k < b.size(); ++k) {
      cum += h.counts[k];
      out += fmt::format("souk_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", r, b[k], cum);
    }
    cum += h.counts.back();
    out += fmt::format("souk_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", r, cum);
    out += fmt::format("souk_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", r, h.sum);
    out += fmt::format("souk_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", r, h.count);
  }
  for (const auto& [name, f] : families_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, f.help, name, f.type);
    for (const auto& [labels, v] : f.values) {
      if (labels.empty()) {
        out += fmt::format("{} {}\n", name, v);
      } else {
        out += fmt::format("{}{{{}}} {}\n", name, labels, v);
      }
    }
  }
  return out;
}

}  // namespace souk::server
