#include "exporter/otlp/otlp_sink.h"

#include <fstream>

#include "spdlog/spdlog.h"

namespace jamjet::otlp {
namespace {

using std::chrono::milliseconds;

absl::Status LoadApiKey(OtlpConfig& config) {
  if (!config.api_key.empty() || config.api_key_file.empty()) return absl::OkStatus();
  std::ifstream file(config.api_key_file);
  if (!file) {
    return absl::NotFoundError(fmt::format(
        "reading the API key file {} (otlp option api_key_file) failed: it cannot be opened",
        config.api_key_file));
  }
  std::getline(file, config.api_key);
  while (!config.api_key.empty() &&
         std::isspace(static_cast<unsigned char>(config.api_key.back()))) {
    config.api_key.pop_back();
  }
  if (config.api_key.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("the API key file {} is empty", config.api_key_file));
  }
  return absl::OkStatus();
}

QueueOptions MakeQueueOptions(const OtlpConfig& config) {
  QueueOptions options;
  options.max_spans = static_cast<size_t>(config.max_queue_spans);
  options.max_bytes = static_cast<size_t>(config.max_queue_bytes);
  options.max_batch_spans = static_cast<size_t>(config.max_batch_spans);
  options.max_batch_bytes = static_cast<size_t>(config.max_batch_bytes);
  options.flush_interval = milliseconds(config.flush_interval_ms);
  options.max_age_s = config.disk_max_age_s;
  return options;
}

}  // namespace

OtlpSink::OtlpSink(const OtlpConfig& config, Resource host_resource)
    : config_(config), host_resource_(CompleteHostResource(std::move(host_resource))) {}

absl::StatusOr<std::unique_ptr<OtlpSink>> OtlpSink::Create(const OtlpConfig& config,
                                                           Resource host_resource) {
  absl::Status status = ValidateConfig(config);
  if (!status.ok()) return status;
  OtlpConfig resolved = config;
  status = LoadApiKey(resolved);
  if (!status.ok()) return status;
  absl::StatusOr<std::unique_ptr<HttpSender>> http = HttpSender::Create(resolved);
  if (!http.ok()) return http.status();

  std::unique_ptr<OtlpSink> sink(new OtlpSink(config, std::move(host_resource)));
  sink->config_.api_key.clear();
  std::unique_ptr<DiskQueue> disk;
  if (config.disk_queue && !config.state_dir.empty()) {
    DiskQueueOptions options;
    options.dir = config.state_dir + "/otlp-queue";
    options.max_bytes = config.disk_queue_max_bytes;
    options.max_age_s = config.disk_max_age_s;
    ExportStats* stats = &sink->stats_;
    options.on_drop = [stats](DropCause cause, uint64_t n) { stats->AddDropped(cause, n); };
    absl::StatusOr<std::unique_ptr<DiskQueue>> opened = DiskQueue::Open(std::move(options));
    if (opened.ok()) {
      disk = std::move(*opened);
    } else {
      spdlog::error("otlp: the disk queue is off, spans are kept in memory only: {}",
                    opened.status().ToString());
    }
  }
  sink->queue_ =
      std::make_unique<SpanQueue>(MakeQueueOptions(config), sink->stats_, std::move(disk));
  sink->exporter_ = std::make_unique<BatchExporter>(config, std::move(*http), sink->stats_);
  if (config.metrics_port != 0) {
    OtlpSink* raw = sink.get();
    auto metrics = MetricsServer::Start(static_cast<uint16_t>(config.metrics_port),
                                        [raw] { return raw->MetricsText(); });
    if (metrics.ok()) {
      sink->metrics_ = std::move(*metrics);
    } else {
      spdlog::error("otlp: {}; metrics are only in the log summary", metrics.status().ToString());
    }
  }
  sink->sender_ = std::thread(&OtlpSink::SenderLoop, sink.get());
  sink->housekeeping_ = std::thread(&OtlpSink::HousekeepingLoop, sink.get());
  spdlog::info("otlp: exporting spans to {} (gzip {}, disk queue {})", config.endpoint,
               config.gzip ? "on" : "off", sink->Stats().depth.disk_enabled ? "on" : "off");
  return sink;
}

OtlpSink::~OtlpSink() { Shutdown(Clock::now() + std::chrono::seconds(10)); }

std::string OtlpSink::description() const { return "otlp:" + config_.endpoint; }

void OtlpSink::Export(const Span& span) {
  stats_.AddReceived(1);
  if (stopping_.load()) {
    stats_.AddDropped(DropCause::kShutdown, 1);
    return;
  }
  EncodedSpan encoded;
  encoded.resource = EncodeResource(span.resource, host_resource_);
  encoded.span = EncodeSpan(span);
  if (encoded.size() > static_cast<size_t>(config_.max_batch_bytes)) {
    stats_.AddDropped(DropCause::kTooLarge, 1);
    spdlog::warn("otlp: dropped span {}: {} encoded bytes exceed max_batch_bytes {}", span.span_id,
                 encoded.size(), config_.max_batch_bytes);
    return;
  }
  queue_->Push(std::move(encoded));
}

void OtlpSink::Flush() { queue_->RequestFlush(); }

void OtlpSink::SenderLoop() {
  while (true) {
    std::vector<EncodedSpan> batch = queue_->NextBatch(Clock::now() + milliseconds(200));
    if (batch.empty()) {
      if (stopping_.load() && queue_->Empty()) break;
      continue;
    }
    if (exporter_->Export(batch) == BatchOutcome::kFinished) {
      queue_->Acknowledge(batch);
    } else {
      queue_->DropUnpersisted(batch);
      break;
    }
  }
  std::lock_guard lock(shutdown_mutex_);
  sender_done_ = true;
  shutdown_changed_.notify_all();
}

void OtlpSink::HousekeepingLoop() {
  Clock::time_point next_summary = Clock::now() + std::chrono::seconds(config_.summary_interval_s);
  std::unique_lock lock(shutdown_mutex_);
  while (!shut_down_) {
    shutdown_changed_.wait_for(lock, milliseconds(config_.disk_sync_interval_ms));
    lock.unlock();
    queue_->SyncDisk();
    if (config_.summary_interval_s > 0 && Clock::now() >= next_summary) {
      spdlog::info("otlp: {}", FormatSummary(Stats()));
      next_summary = Clock::now() + std::chrono::seconds(config_.summary_interval_s);
    }
    lock.lock();
  }
}

void OtlpSink::Shutdown(Clock::time_point deadline) {
  std::unique_lock lock(shutdown_mutex_);
  if (stopping_.exchange(true)) return;
  exporter_->SetStopDeadline(deadline);
  queue_->RequestFlush(/*drain=*/true);
  if (!shutdown_changed_.wait_until(lock, deadline, [this] { return sender_done_.load(); })) {
    exporter_->Abort();
  }
  lock.unlock();
  sender_.join();
  queue_->DropUnpersisted({});
  lock.lock();
  shut_down_ = true;
  shutdown_changed_.notify_all();
  lock.unlock();
  housekeeping_.join();
  queue_->SyncDisk();
  metrics_.reset();
  spdlog::info("otlp: stopped, final counts: {}", FormatSummary(Stats()));
}

StatsSnapshot OtlpSink::Stats() const { return stats_.Snapshot(queue_->Depth()); }

}  // namespace jamjet::otlp
