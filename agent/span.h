// The span model shared by span building and the sinks.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace jamjet {

// One attribute value. Lists appear only as string arrays
// (gen_ai.response.finish_reasons).
using AttributeValue = std::variant<std::string, int64_t, double, bool, std::vector<std::string>>;

// Attributes keep insertion order so that sinks print them in a stable order.
using Attributes = std::vector<std::pair<std::string, AttributeValue>>;

enum class SpanKind { kClient };
enum class StatusCode { kUnset, kOk, kError };

struct Span {
  std::string name;
  SpanKind kind = SpanKind::kClient;
  std::string trace_id;  // 32 lowercase hex digits
  std::string span_id;   // 16 lowercase hex digits
  uint64_t start_time_unix_nano = 0;
  uint64_t end_time_unix_nano = 0;
  StatusCode status_code = StatusCode::kUnset;
  std::string status_message;
  Attributes attributes;
  // Resource attributes of the process that made the call (process.pid, service.name, ...),
  // merged by sinks with the host resource.
  Attributes resource;
};

// Sets `key` to `value`, replacing an earlier value of the same key.
inline void SetAttribute(Attributes& attributes, std::string key, AttributeValue value) {
  for (auto& [existing_key, existing_value] : attributes) {
    if (existing_key == key) {
      existing_value = std::move(value);
      return;
    }
  }
  attributes.emplace_back(std::move(key), std::move(value));
}

// Returns the value of `key`, or nullptr when the span does not have it.
inline const AttributeValue* FindAttribute(const Attributes& attributes, std::string_view key) {
  for (const auto& [existing_key, value] : attributes) {
    if (existing_key == key) return &value;
  }
  return nullptr;
}

}  // namespace jamjet
