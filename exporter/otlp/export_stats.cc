#include "exporter/otlp/export_stats.h"

#include "nlohmann/json.hpp"
#include "spdlog/fmt/fmt.h"

namespace jamjet::otlp {

const char* DropCauseName(DropCause cause) {
  switch (cause) {
    case DropCause::kQueueFull:
      return "queue_full";
    case DropCause::kDiskFull:
      return "disk_full";
    case DropCause::kRetryExhausted:
      return "retry_exhausted";
    case DropCause::kPermanentError:
      return "permanent_error";
    case DropCause::kPartialRejection:
      return "partial_rejection";
    case DropCause::kTooLarge:
      return "too_large";
    case DropCause::kExpired:
      return "expired";
    case DropCause::kCorrupt:
      return "corrupt";
    case DropCause::kShutdown:
      return "shutdown";
    case DropCause::kCount:
      break;
  }
  return "unknown";
}

uint64_t StatsSnapshot::dropped_total() const {
  uint64_t total = 0;
  for (uint64_t count : dropped) total += count;
  return total;
}

void ExportStats::AddResponse(long status) {
  ++requests_;
  std::lock_guard lock(responses_mutex_);
  ++responses_[status];
}

uint64_t ExportStats::dropped() const {
  uint64_t total = 0;
  for (const auto& count : dropped_) total += count.load();
  return total;
}

StatsSnapshot ExportStats::Snapshot(const QueueDepth& depth) const {
  StatsSnapshot snapshot;
  snapshot.received = received_.load();
  snapshot.exported = exported_.load();
  snapshot.requests = requests_.load();
  snapshot.retries = retries_.load();
  for (size_t i = 0; i < dropped_.size(); ++i) snapshot.dropped[i] = dropped_[i].load();
  {
    std::lock_guard lock(responses_mutex_);
    snapshot.responses = responses_;
  }
  snapshot.depth = depth;
  return snapshot;
}

std::string FormatPrometheus(const StatsSnapshot& stats) {
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  metric("jamjet_otlp_spans_received_total", "counter", "Spans handed to the OTLP exporter.");
  out += fmt::format("jamjet_otlp_spans_received_total {}\n", stats.received);
  metric("jamjet_otlp_spans_exported_total", "counter", "Spans accepted by the endpoint.");
  out += fmt::format("jamjet_otlp_spans_exported_total {}\n", stats.exported);
  metric("jamjet_otlp_spans_dropped_total", "counter", "Spans dropped, by cause.");
  for (size_t i = 0; i < stats.dropped.size(); ++i) {
    out += fmt::format("jamjet_otlp_spans_dropped_total{{cause=\"{}\"}} {}\n",
                       DropCauseName(static_cast<DropCause>(i)), stats.dropped[i]);
  }
  metric("jamjet_otlp_requests_total", "counter",
         "Export requests by HTTP status; status 0 means no response.");
  for (const auto& [status, count] : stats.responses) {
    out += fmt::format("jamjet_otlp_requests_total{{status=\"{}\"}} {}\n", status, count);
  }
  metric("jamjet_otlp_retries_total", "counter", "Export requests that were retried.");
  out += fmt::format("jamjet_otlp_retries_total {}\n", stats.retries);
  metric("jamjet_otlp_queue_spans", "gauge", "Spans waiting to be sent, by queue.");
  out += fmt::format("jamjet_otlp_queue_spans{{queue=\"memory\"}} {}\n", stats.depth.memory_spans);
  out += fmt::format("jamjet_otlp_queue_spans{{queue=\"disk\"}} {}\n", stats.depth.disk_spans);
  metric("jamjet_otlp_queue_bytes", "gauge", "Encoded span bytes waiting to be sent, by queue.");
  out += fmt::format("jamjet_otlp_queue_bytes{{queue=\"memory\"}} {}\n", stats.depth.memory_bytes);
  out += fmt::format("jamjet_otlp_queue_bytes{{queue=\"disk\"}} {}\n", stats.depth.disk_bytes);
  return out;
}

std::string FormatSummary(const StatsSnapshot& stats) {
  std::string causes;
  for (size_t i = 0; i < stats.dropped.size(); ++i) {
    if (stats.dropped[i] == 0) continue;
    if (!causes.empty()) causes += ' ';
    causes += fmt::format("{}={}", DropCauseName(static_cast<DropCause>(i)), stats.dropped[i]);
  }
  return fmt::format(
      "received={} exported={} dropped={}{} requests={} retries={} queue={} spans/{} "
      "bytes disk={}",
      stats.received, stats.exported, stats.dropped_total(),
      causes.empty() ? "" : " (" + causes + ")", stats.requests, stats.retries,
      stats.depth.memory_spans, stats.depth.memory_bytes,
      stats.depth.disk_enabled
          ? fmt::format("{} spans/{} bytes", stats.depth.disk_spans, stats.depth.disk_bytes)
          : std::string("off"));
}

std::string FormatJson(const StatsSnapshot& stats) {
  nlohmann::ordered_json json;
  json["received"] = stats.received;
  json["exported"] = stats.exported;
  json["requests"] = stats.requests;
  json["retries"] = stats.retries;
  json["dropped_total"] = stats.dropped_total();
  nlohmann::ordered_json dropped = nlohmann::ordered_json::object();
  for (size_t i = 0; i < stats.dropped.size(); ++i) {
    dropped[DropCauseName(static_cast<DropCause>(i))] = stats.dropped[i];
  }
  json["dropped"] = dropped;
  nlohmann::ordered_json responses = nlohmann::ordered_json::object();
  for (const auto& [status, count] : stats.responses) responses[std::to_string(status)] = count;
  json["responses"] = responses;
  json["memory_spans"] = stats.depth.memory_spans;
  json["memory_bytes"] = stats.depth.memory_bytes;
  json["disk_spans"] = stats.depth.disk_spans;
  json["disk_bytes"] = stats.depth.disk_bytes;
  json["disk_enabled"] = stats.depth.disk_enabled;
  return json.dump();
}

}  // namespace jamjet::otlp
