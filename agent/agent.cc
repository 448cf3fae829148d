#include "agent/agent.h"

#include <malloc.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <span>
#include <thread>

#include "absl/strings/str_cat.h"
#include "agent/genai/span_builder.h"
#include "agent/process_info.h"
#include "exporter/otlp/otlp_sink.h"
#include "spdlog/fmt/fmt.h"
#include "spdlog/spdlog.h"

namespace jamjet {
namespace {

constexpr int kPollTimeoutMs = 50;
constexpr uint64_t kNanosPerSecond = 1'000'000'000;
constexpr uint64_t kFullScanIntervalNs = 30 * kNanosPerSecond;

uint64_t MonotonicNowNs() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * kNanosPerSecond + now.tv_nsec;
}

int64_t MonotonicToUnixOffsetNs() {
  timespec real;
  clock_gettime(CLOCK_REALTIME, &real);
  uint64_t monotonic = MonotonicNowNs();
  int64_t unix_ns = static_cast<int64_t>(real.tv_sec) * kNanosPerSecond + real.tv_nsec;
  return unix_ns - static_cast<int64_t>(monotonic);
}

// Library and binary directories searched at start; others are found through /proc.
constexpr const char* kLibraryDirectories[] = {"/lib",
                                               "/lib64",
                                               "/usr/lib",
                                               "/usr/lib64",
                                               "/usr/local/lib",
                                               "/lib/x86_64-linux-gnu",
                                               "/usr/lib/x86_64-linux-gnu",
                                               "/lib/aarch64-linux-gnu",
                                               "/usr/lib/aarch64-linux-gnu"};
constexpr const char* kBinaryDirectories[] = {"/usr/bin", "/usr/local/bin", "/bin", "/usr/sbin",
                                              "/opt/node/bin"};

std::string CommOf(const jj_process_event* event, size_t size) {
  if (size < sizeof(*event)) return "";
  return std::string(event->comm, strnlen(event->comm, sizeof(event->comm)));
}

}  // namespace

Agent::Agent(AgentOptions options) : options_(std::move(options)) {}

Agent::~Agent() = default;

absl::StatusOr<std::unique_ptr<Agent>> Agent::Create(AgentOptions options) {
  if (options.outputs.empty()) options.outputs.push_back("stdout");
  options.tracker.monotonic_to_unix_ns = MonotonicToUnixOffsetNs();
  options.tracker.max_call_bytes = options.tracer.max_call_bytes;
  std::unique_ptr<Agent> agent(new Agent(std::move(options)));
  agent->resource_ = DetectHostResource();
  for (const std::string& output : agent->options_.outputs) {
    if (output == "otlp") {
      absl::StatusOr<std::unique_ptr<otlp::OtlpSink>> sink =
          otlp::OtlpSink::Create(agent->options_.otlp, agent->resource_);
      if (!sink.ok()) return sink.status();
      agent->otlp_sink_ = sink->get();
      agent->sinks_.push_back(std::move(*sink));
      continue;
    }
    absl::StatusOr<std::unique_ptr<SpanSink>> sink = CreateSink(output, agent->resource_);
    if (!sink.ok()) return sink.status();
    agent->sinks_.push_back(std::move(*sink));
  }

  Agent* self = agent.get();
  absl::StatusOr<std::unique_ptr<SslTracer>> tracer =
      SslTracer::Create(agent->options_.tracer,
                        [self](const void* data, size_t size) { self->HandleRecord(data, size); });
  if (!tracer.ok()) return tracer.status();
  agent->tracer_ = std::move(*tracer);
  agent->tracker_ = std::make_unique<ConnectionTracker>(
      agent->options_.tracker,
      [self](genai::Exchange&& exchange) { self->HandleExchange(std::move(exchange)); });
  agent->discovery_ = std::make_unique<BinaryDiscovery>(
      agent->options_.proc_root,
      [self](const std::string& path, const SslSymbolOffsets& offsets) {
        return self->tracer_->AttachBinary(path, offsets);
      },
      [self](uint32_t pid, uint64_t address) { self->tracer_->SetRegistryAddress(pid, address); });
  return agent;
}

void Agent::AttachAtStart() {
  if (options_.scan_host_directories) {
    for (const char* directory : kLibraryDirectories) discovery_->ScanDirectory(directory, false);
    for (const char* directory : kBinaryDirectories) discovery_->ScanDirectory(directory, true);
  }
  discovery_->ScanAllProcesses();
  spdlog::info("probing {} OpenSSL binaries", discovery_->attached_count());
}

void Agent::HandleRecord(const void* data, size_t size) {
  uint64_t started = MonotonicNowNs();
  DispatchRecord(data, size);
  busy_ns_ += MonotonicNowNs() - started;
}

void Agent::DispatchRecord(const void* data, size_t size) {
  ++records_;
  if (size < sizeof(jj_event_header)) {
    ++bad_records_;
    return;
  }
  const auto* header = static_cast<const jj_event_header*>(data);
  if (header->abi_version != JJ_ABI_VERSION) {
    ++bad_records_;
    return;
  }
  switch (header->kind) {
    case JJ_EVENT_DATA:
      tracker_->OnData(*static_cast<const jj_data_event*>(data), size);
      break;
    case JJ_EVENT_USER_CONTEXT:
      tracker_->OnUserContext(*static_cast<const jj_context_event*>(data), size);
      break;
    case JJ_EVENT_CLOSE:
      if (size < sizeof(jj_close_event)) {
        ++bad_records_;
        break;
      }
      tracker_->OnClose(header->pid, static_cast<const jj_close_event*>(data)->ssl,
                        header->timestamp_ns);
      break;
    case JJ_EVENT_EXEC:
      // Read now: a short-lived process may be gone when its first call is reported.
      process_resources_[header->pid] =
          ReadProcessResource(options_.proc_root, header->pid,
                              CommOf(static_cast<const jj_process_event*>(data), size));
      discovery_->ScanProcess(header->pid);
      discovery_->ScheduleRescans(header->pid, header->timestamp_ns);
      break;
    case JJ_EVENT_EXIT:
      tracker_->OnProcessExit(header->pid, header->timestamp_ns);
      process_resources_.erase(header->pid);
      discovery_->ForgetProcess(header->pid);
      tracer_->ForgetRegistry(header->pid);
      break;
    default:
      ++bad_records_;
      break;
  }
}

void Agent::ResolveUser(genai::Exchange& exchange) {
  if (!exchange.user_context.has_value()) return;
  const genai::CapturedUserContext& captured = *exchange.user_context;
  if (captured.status != JJ_CONTEXT_OK) {
    if (captured.status < context_status_counts_.size()) ++context_status_counts_[captured.status];
    return;
  }
  if (captured.source == JJ_CONTEXT_NONE) return;
  user_context::DecodeResult decoded = user_context::DecodeRecord(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(captured.record.data()), captured.record.size()));
  if (!decoded.ok()) {
    ++record_decode_failures_[static_cast<size_t>(decoded.status)];
    return;
  }
  exchange.user.source = captured.source == JJ_CONTEXT_PROCESS ? genai::UserSource::kProcess
                                                               : genai::UserSource::kScope;
  exchange.user.context = std::move(decoded.context);
}

void Agent::HandleExchange(genai::Exchange&& exchange) {
  ResolveUser(exchange);
  std::optional<Span> span = genai::BuildLlmSpan(exchange, genai::PriceTable::BuiltIn(), ids_);
  if (!span) {
    ++other_exchanges_;
    return;
  }
  auto resource = process_resources_.find(exchange.connection.pid);
  if (resource == process_resources_.end()) {
    resource = process_resources_
                   .emplace(exchange.connection.pid,
                            ReadProcessResource(options_.proc_root, exchange.connection.pid,
                                                exchange.connection.executable_name))
                   .first;
  }
  span->resource = resource->second;
  ++spans_;
  for (auto& sink : sinks_) sink->Export(*span);
}

void Agent::SampleHeap() {
  struct mallinfo2 heap = mallinfo2();
  peak_heap_bytes_ = std::max<uint64_t>(peak_heap_bytes_, heap.uordblks + heap.hblkhd);
}

void Agent::LogSummary(const char* when) {
  SampleHeap();
  const TrackerStats& tracker = tracker_->stats();
  http::ParserStats parsers = tracker_->parser_stats();
  DropCounts drops = tracer_->ReadDropCounts();
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  double busy_seconds = static_cast<double>(busy_ns_) / kNanosPerSecond;
  spdlog::info(
      "{}: spans={} other_http_exchanges={} records={} bad_records={} connections={} "
      "bytes={} lost_gaps={} truncated_calls={} server_side_connections={} "
      "unpaired_responses={} parse_errors={} unsynced_bytes={} decode_errors={} "
      "truncated_bodies={} bpf_drops(ringbuf_full={} read_failed={} active_full={} "
      "call_truncated={}) busy_seconds={:.3f} spans_per_busy_second={:.0f} "
      "records_per_busy_second={:.0f} peak_rss_kib={} peak_heap_kib={} (the RSS includes the "
      "ring buffer, mapped twice)",
      when, spans_, other_exchanges_, records_, bad_records_, tracker_->connection_count(),
      tracker.bytes, tracker.lost_event_gaps, tracker.truncated_calls,
      tracker.server_side_connections, tracker.responses_without_request, parsers.parse_errors,
      parsers.unsynced_bytes_skipped, parsers.decode_errors, parsers.truncated_bodies,
      drops[JJ_DROP_RINGBUF_FULL], drops[JJ_DROP_READ_FAILED], drops[JJ_DROP_ACTIVE_FULL],
      drops[JJ_DROP_CALL_TRUNCATED], busy_seconds, busy_seconds > 0 ? spans_ / busy_seconds : 0.0,
      busy_seconds > 0 ? records_ / busy_seconds : 0.0, usage.ru_maxrss, peak_heap_bytes_ / 1024);
  std::string context_problems;
  const char* status_names[] = {"ok",          "bad_header", "foreign_registry",
                                "read_failed", "torn",       "bad_record"};
  for (size_t i = 1; i < context_status_counts_.size(); ++i) {
    if (context_status_counts_[i] == 0) continue;
    context_problems += fmt::format(" {}={}", status_names[i], context_status_counts_[i]);
  }
  for (size_t i = 1; i < record_decode_failures_.size(); ++i) {
    if (record_decode_failures_[i] == 0) continue;
    context_problems += fmt::format(
        " record_{}={}", user_context::DecodeStatusName(static_cast<user_context::DecodeStatus>(i)),
        record_decode_failures_[i]);
  }
  if (!context_problems.empty()) {
    spdlog::warn("{}: calls reported without a user because the registry was unusable:{}", when,
                 context_problems);
  }
  for (const auto& sink : sinks_) {
    if (sink->dropped() > 0) {
      spdlog::warn("{}: sink {} dropped {} spans", when, sink->description(), sink->dropped());
    }
  }
}

absl::Status Agent::Run(const std::atomic<bool>& stop) {
  started_ns_ = MonotonicNowNs();
  AttachAtStart();
  if (!options_.ready_file.empty()) {
    std::ofstream ready(options_.ready_file);
    ready << getpid() << "\n";
    if (!ready) {
      return absl::InvalidArgumentError(
          absl::StrCat("writing the ready file ", options_.ready_file, " failed"));
    }
  }
  spdlog::info("jamjet-agent ready");

  uint64_t next_idle_check = started_ns_ + kNanosPerSecond;
  uint64_t next_full_scan = started_ns_ + kFullScanIntervalNs;
  uint64_t next_summary = started_ns_ + options_.stats_interval_seconds * kNanosPerSecond;
  while (!stop.load()) {
    if (options_.consumer_delay_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(options_.consumer_delay_ms));
    }
    int polled = tracer_->Poll(kPollTimeoutMs);
    if (polled < 0 && polled != -EINTR) {
      spdlog::error("polling the ring buffer failed: {}", std::strerror(-polled));
    }
    uint64_t now = MonotonicNowNs();
    discovery_->RunDueRescans(now);
    if (now >= next_idle_check) {
      SampleHeap();
      tracker_->ExpireIdle(now);
      next_idle_check = now + kNanosPerSecond;
    }
    if (now >= next_full_scan) {
      // Catches libraries loaded and registries created after the rescans that follow exec.
      discovery_->ScanAllProcesses();
      next_full_scan = now + kFullScanIntervalNs;
    }
    if (options_.stats_interval_seconds > 0 && now >= next_summary) {
      LogSummary("summary");
      next_summary = now + options_.stats_interval_seconds * kNanosPerSecond;
    }
  }

  spdlog::info("stopping: detaching probes and flushing spans");
  tracer_->DetachAll();
  tracer_->Drain();
  tracker_->FlushAll(MonotonicNowNs());
  for (auto& sink : sinks_) sink->Flush();
  if (otlp_sink_ != nullptr) {
    // Send what the endpoint takes within 10 s; the disk queue keeps the rest for next start.
    otlp_sink_->Shutdown(std::chrono::steady_clock::now() + std::chrono::seconds(10));
  }
  LogSummary("final");
  return absl::OkStatus();
}

}  // namespace jamjet
