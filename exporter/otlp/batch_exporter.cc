#include "exporter/otlp/batch_exporter.h"

#include <random>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "spdlog/spdlog.h"

namespace jamjet::otlp {
namespace {

using std::chrono::milliseconds;

bool IsPowerOfTen(uint64_t n) {
  while (n >= 10 && n % 10 == 0) n /= 10;
  return n == 1;
}

}  // namespace

BatchExporter::BatchExporter(const OtlpConfig& config, std::unique_ptr<HttpSender> http,
                             ExportStats& stats)
    : config_(config),
      http_(std::move(http)),
      stats_(stats),
      backoff_(milliseconds(config.retry_initial_backoff_ms),
               milliseconds(config.retry_max_backoff_ms), std::random_device()()) {
  config_.api_key.clear();
}

void BatchExporter::SetStopDeadline(Clock::time_point deadline) {
  std::lock_guard lock(mutex_);
  stop_deadline_ = deadline;
  stop_changed_.notify_all();
}

void BatchExporter::Abort() {
  {
    std::lock_guard lock(mutex_);
    aborted_ = true;
    stop_changed_.notify_all();
  }
  http_->Abort();
}

BatchExporter::Clock::time_point BatchExporter::StopDeadline() {
  std::lock_guard lock(mutex_);
  return aborted_ ? Clock::time_point::min() : stop_deadline_;
}

// Sleeps until `until`; returns false when the stop deadline or an abort comes first.
bool BatchExporter::WaitUntil(Clock::time_point until) {
  std::unique_lock lock(mutex_);
  while (!aborted_ && Clock::now() < until) {
    if (stop_deadline_ <= until) {
      stop_changed_.wait_until(lock, stop_deadline_);
      if (Clock::now() >= stop_deadline_) return false;
    } else {
      stop_changed_.wait_until(lock, until);
    }
  }
  return !aborted_;
}

BatchOutcome BatchExporter::Export(const std::vector<EncodedSpan>& batch) {
  if (batch.empty()) return BatchOutcome::kFinished;
  return Send(batch, /*may_split=*/true);
}

BatchOutcome BatchExporter::Send(const std::vector<EncodedSpan>& batch, bool may_split) {
  std::string body = BuildRequest(batch);
  if (config_.gzip) {
    absl::StatusOr<std::string> compressed = Gzip(body);
    if (!compressed.ok()) {
      Drop(DropCause::kPermanentError, batch.size(), compressed.status().ToString());
      return BatchOutcome::kFinished;
    }
    body = std::move(*compressed);
  }
  backoff_.Reset();
  Clock::time_point give_up = Clock::now() + std::chrono::seconds(config_.retry_max_elapsed_s);
  while (true) {
    milliseconds retry_after{0};
    Attempt attempt = PostOnce(body, batch.size(), retry_after);
    if (attempt == Attempt::kDone) return BatchOutcome::kFinished;
    if (attempt == Attempt::kAborted) return BatchOutcome::kAborted;
    if (attempt == Attempt::kTooLarge) {
      if (!may_split || batch.size() < 2) {
        Drop(DropCause::kTooLarge, batch.size(), "the endpoint rejected the request as too large");
        return BatchOutcome::kFinished;
      }
      // Split once: each half is sent on its own and dropped if it is still too large.
      size_t half = batch.size() / 2;
      std::vector<EncodedSpan> first(batch.begin(), batch.begin() + half);
      std::vector<EncodedSpan> second(batch.begin() + half, batch.end());
      if (Send(first, false) == BatchOutcome::kAborted) return BatchOutcome::kAborted;
      return Send(second, false);
    }
    milliseconds wait = std::max(backoff_.NextDelay(), retry_after);
    if (Clock::now() + wait > give_up) {
      Drop(DropCause::kRetryExhausted, batch.size(),
           fmt::format("retries did not succeed within {} s", config_.retry_max_elapsed_s));
      return BatchOutcome::kFinished;
    }
    stats_.AddRetry();
    spdlog::debug("otlp: retrying a batch of {} spans in {} ms (attempt {})", batch.size(),
                  wait.count(), backoff_.attempt() + 1);
    if (!WaitUntil(Clock::now() + wait)) return BatchOutcome::kAborted;
  }
}

BatchExporter::Attempt BatchExporter::PostOnce(const std::string& body, size_t spans,
                                               milliseconds& retry_after) {
  Clock::time_point stop = StopDeadline();
  Clock::time_point now = Clock::now();
  if (now >= stop) return Attempt::kAborted;
  milliseconds timeout(config_.request_timeout_ms);
  if (stop != Clock::time_point::max()) {
    timeout = std::min(timeout, std::chrono::duration_cast<milliseconds>(stop - now));
  }
  HttpResponse response = http_->Post(body, timeout);
  stats_.AddResponse(response.status);
  switch (response.transport) {
    case TransportError::kAborted:
      return Attempt::kAborted;
    case TransportError::kPermanent:
      Drop(DropCause::kPermanentError, spans, "request failed: " + response.error);
      return Attempt::kDone;
    case TransportError::kRetryable:
      if (Clock::now() >= StopDeadline()) return Attempt::kAborted;
      LogLimited(
          spdlog::level::warn, "transport:" + response.error,
          fmt::format("export to {} failed: {}; retrying", config_.endpoint, response.error));
      return Attempt::kRetry;
    case TransportError::kNone:
      break;
  }
  long status = response.status;
  if (status >= 200 && status < 300) {
    HandleSuccess(response, spans);
    return Attempt::kDone;
  }
  if (status == 413) return Attempt::kTooLarge;
  if (IsRetryableStatus(status)) {
    if (response.retry_after) {
      retry_after = ParseRetryAfter(*response.retry_after, std::chrono::system_clock::now())
                        .value_or(milliseconds(0));
    }
    LogLimited(spdlog::level::warn, fmt::format("status:{}", status),
               fmt::format("export to {} returned HTTP {}; retrying", config_.endpoint, status));
    return Attempt::kRetry;
  }
  Drop(DropCause::kPermanentError, spans, fmt::format("the endpoint returned HTTP {}", status));
  return Attempt::kDone;
}

void BatchExporter::HandleSuccess(const HttpResponse& response, size_t spans) {
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse parsed;
  int64_t rejected = 0;
  if (!response.body.empty() && parsed.ParseFromString(response.body)) {
    rejected = std::clamp<int64_t>(parsed.partial_success().rejected_spans(), 0,
                                   static_cast<int64_t>(spans));
  }
  stats_.AddExported(spans - static_cast<size_t>(rejected));
  if (rejected > 0) {
    std::string message = parsed.partial_success().error_message();
    Drop(DropCause::kPartialRejection, static_cast<size_t>(rejected),
         "the endpoint rejected part of a request: " +
             (message.empty() ? std::string("no message") : message.substr(0, 200)));
  }
}

void BatchExporter::Drop(DropCause cause, size_t spans, const std::string& reason) {
  stats_.AddDropped(cause, spans);
  LogLimited(spdlog::level::err, std::string(DropCauseName(cause)) + ":" + reason,
             fmt::format("dropped {} spans ({}): {}", spans, DropCauseName(cause), reason));
}

void BatchExporter::LogLimited(spdlog::level::level_enum level, const std::string& key,
                               const std::string& message) {
  uint64_t count = ++log_counts_[key];
  if (count == 1) {
    spdlog::log(level, "otlp: {} (repeats are counted, not logged each time)", message);
  } else if (IsPowerOfTen(count)) {
    spdlog::log(level, "otlp: {} ({} times so far)", message, count);
  }
}

}  // namespace jamjet::otlp
