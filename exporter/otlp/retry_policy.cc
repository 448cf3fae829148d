#include "exporter/otlp/retry_policy.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace jamjet::otlp {
namespace {

// Maximum delta-seconds value taken as is; larger values are clamped to it (about 115 days).
constexpr int64_t kMaxDeltaSeconds = 10'000'000;

std::optional<int64_t> ParseDeltaSeconds(const std::string& value) {
  if (value.empty() || value.size() > 18) return std::nullopt;
  int64_t seconds = 0;
  for (char c : value) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    seconds = seconds * 10 + (c - '0');
  }
  return std::min(seconds, kMaxDeltaSeconds);
}

// Parses the three HTTP-date forms of RFC 9110 section 5.6.7, always in GMT.
std::optional<time_t> ParseHttpDate(const std::string& value) {
  static constexpr const char* kFormats[] = {
      "%a, %d %b %Y %H:%M:%S GMT",  // IMF-fixdate
      "%A, %d-%b-%y %H:%M:%S GMT",  // RFC 850
      "%a %b %e %H:%M:%S %Y",       // asctime
  };
  for (const char* format : kFormats) {
    struct tm parts;
    std::memset(&parts, 0, sizeof(parts));
    const char* end = strptime(value.c_str(), format, &parts);
    if (end != nullptr && *end == '\0') return timegm(&parts);
  }
  return std::nullopt;
}

std::string Trim(const std::string& value) {
  size_t begin = value.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  size_t end = value.find_last_not_of(" \t\r\n");
  return value.substr(begin, end - begin + 1);
}

}  // namespace

bool IsRetryableStatus(long status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(
    const std::string& raw_value, std::chrono::system_clock::time_point now) {
  std::string value = Trim(raw_value);
  if (auto seconds = ParseDeltaSeconds(value)) return std::chrono::seconds(*seconds);
  std::optional<time_t> date = ParseHttpDate(value);
  if (!date) return std::nullopt;
  auto wait = std::chrono::system_clock::from_time_t(*date) - now;
  if (wait <= decltype(wait)::zero()) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(wait);
}

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, uint64_t seed)
    : initial_(initial), max_(max), random_(seed) {}

std::chrono::milliseconds Backoff::NextDelay() {
  ++attempt_;
  int64_t delay = initial_.count();
  for (int i = 1; i < attempt_ && delay < max_.count(); ++i) delay *= 2;
  delay = std::min(delay, max_.count());
  std::uniform_int_distribution<int64_t> jitter(delay / 2, delay);
  return std::chrono::milliseconds(jitter(random_));
}

}  // namespace jamjet::otlp
