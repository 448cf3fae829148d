// Retry decisions of the OTLP exporter: which responses are retried, Retry-After and backoff.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace jamjet::otlp {

// Returns true for the HTTP statuses that the OTLP/HTTP specification lists as retryable: 429, 502,
// 503 and 504.
bool IsRetryableStatus(long status);

// Parses a Retry-After value (RFC 9110 section 10.2.3): delta-seconds ("120") or an HTTP-date
// ("Wed, 21 Oct 2015 07:28:00 GMT", and the obsolete RFC 850 and asctime forms). Returns the
// wait from `now`, zero for a date in the past, or nullopt when the value is invalid.
std::optional<std::chrono::milliseconds> ParseRetryAfter(const std::string& value,
                                                         std::chrono::system_clock::time_point now);

// Exponential backoff with jitter: the n-th delay (n from 1) is drawn uniformly from
// [d/2, d] where d = min(initial * 2^(n-1), max).
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, uint64_t seed);

  std::chrono::milliseconds NextDelay();
  void Reset() { attempt_ = 0; }
  int attempt() const { return attempt_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  int attempt_ = 0;
  std::mt19937_64 random_;
};

}  // namespace jamjet::otlp
