// Sends one batch to the OTLP endpoint: encoding, gzip, retries, 413 splitting and the
// accounting of every span as exported or dropped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "exporter/otlp/config.h"
#include "exporter/otlp/export_stats.h"
#include "exporter/otlp/http_sender.h"
#include "exporter/otlp/otlp_encoder.h"
#include "exporter/otlp/retry_policy.h"
#include "spdlog/spdlog.h"

namespace jamjet::otlp {

enum class BatchOutcome {
  kFinished,  // every span was counted as exported or dropped
  kAborted,   // the stop deadline passed first; the batch is unfinished
};

class BatchExporter {
 public:
  using Clock = std::chrono::steady_clock;

  BatchExporter(const OtlpConfig& config, std::unique_ptr<HttpSender> http, ExportStats& stats);

  // Sends `batch`, retrying as the retry policy allows. Not thread-safe: one sender thread.
  BatchOutcome Export(const std::vector<EncodedSpan>& batch);

  // Makes requests and retry waits end by `deadline`; Export returns kAborted after it.
  // Thread-safe.
  void SetStopDeadline(Clock::time_point deadline);
  // Cuts off the running request and every later one at once. Thread-safe.
  void Abort();

 private:
  enum class Attempt { kDone, kRetry, kTooLarge, kAborted };

  BatchOutcome Send(const std::vector<EncodedSpan>& batch, bool may_split);
  Attempt PostOnce(const std::string& body, size_t spans, std::chrono::milliseconds& retry_after);
  void HandleSuccess(const HttpResponse& response, size_t spans);
  void Drop(DropCause cause, size_t spans, const std::string& reason);
  bool WaitUntil(Clock::time_point until);
  Clock::time_point StopDeadline();
  // Logs the first occurrence of `key` and then each 10th, 100th, ... one with its count.
  void LogLimited(spdlog::level::level_enum level, const std::string& key,
                  const std::string& message);

  OtlpConfig config_;
  std::unique_ptr<HttpSender> http_;
  ExportStats& stats_;
  Backoff backoff_;
  std::mutex mutex_;
  std::condition_variable stop_changed_;
  Clock::time_point stop_deadline_ = Clock::time_point::max();
  bool aborted_ = false;
  std::map<std::string, uint64_t> log_counts_;
};

}  // namespace jamjet::otlp
