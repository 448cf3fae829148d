// Builders for HTTP exchanges and readers for span attributes, shared by the GenAI tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/genai/exchange.h"
#include "agent/genai/id_source.h"
#include "agent/genai/prices.h"
#include "agent/genai/span_builder.h"
#include "agent/span.h"

namespace jamjet::genai::testing {

inline constexpr char kTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";
inline constexpr char kSpanId[] = "00f067aa0ba902b7";

class FixedIdSource final : public IdSource {
 public:
  std::string NewTraceId() override { return kTraceId; }
  std::string NewSpanId() override { return kSpanId; }
};

// Monotonic times of the test exchanges, in nanoseconds.
inline constexpr uint64_t kRequestFirstByteNs = 1'000'000'000;
inline constexpr uint64_t kRequestLastByteNs = 1'001'000'000;
inline constexpr uint64_t kResponseFirstByteNs = 1'200'000'000;
inline constexpr uint64_t kResponseFirstBodyByteNs = 1'250'000'000;
inline constexpr uint64_t kResponseLastByteNs = 2'000'000'000;
inline constexpr int64_t kMonotonicToUnixNs = 1'700'000'000'000'000'000;

inline http::Message MakeRequest(std::string target, std::string body,
                                 http::Headers headers = {{"Host", "api.openai.com"}}) {
  http::Message request;
  request.method = "POST";
  request.target = std::move(target);
  request.headers = std::move(headers);
  request.headers.push_back({"Content-Type", "application/json"});
  request.body = std::move(body);
  request.complete = true;
  request.first_byte_ns = kRequestFirstByteNs;
  request.last_byte_ns = kRequestLastByteNs;
  return request;
}

inline http::Message MakeResponse(int status_code, std::string content_type, std::string body) {
  http::Message response;
  response.status_code = status_code;
  response.headers = {{"Content-Type", std::move(content_type)}};
  response.body = std::move(body);
  response.complete = true;
  response.first_byte_ns = kResponseFirstByteNs;
  response.first_body_byte_ns = kResponseFirstBodyByteNs;
  response.last_byte_ns = kResponseLastByteNs;
  return response;
}

inline http::Message MakeJsonResponse(int status_code, std::string body) {
  return MakeResponse(status_code, "application/json", std::move(body));
}

inline http::Message MakeSseResponse(std::string body) {
  return MakeResponse(200, "text/event-stream; charset=utf-8", std::move(body));
}

inline Exchange MakeExchange(http::Message request, std::optional<http::Message> response) {
  Exchange exchange;
  exchange.request = std::move(request);
  exchange.response = std::move(response);
  exchange.connection.pid = 4242;
  exchange.connection.tid = 4243;
  exchange.connection.executable_name = "python3";
  exchange.connection.peer_address = "162.159.140.245";
  exchange.connection.peer_port = 443;
  exchange.monotonic_to_unix_ns = kMonotonicToUnixNs;
  return exchange;
}

inline std::optional<Span> Build(const Exchange& exchange) {
  FixedIdSource ids;
  return BuildLlmSpan(exchange, PriceTable::BuiltIn(), ids);
}

template <typename T>
std::optional<T> Get(const Span& span, std::string_view key) {
  const AttributeValue* value = FindAttribute(span.attributes, key);
  if (value == nullptr || !std::holds_alternative<T>(*value)) return std::nullopt;
  return std::get<T>(*value);
}

inline std::optional<int64_t> GetInt(const Span& span, std::string_view key) {
  return Get<int64_t>(span, key);
}
inline std::optional<std::string> GetString(const Span& span, std::string_view key) {
  return Get<std::string>(span, key);
}
inline std::optional<double> GetDouble(const Span& span, std::string_view key) {
  return Get<double>(span, key);
}
inline std::optional<bool> GetBool(const Span& span, std::string_view key) {
  return Get<bool>(span, key);
}
inline std::optional<std::vector<std::string>> GetList(const Span& span, std::string_view key) {
  return Get<std::vector<std::string>>(span, key);
}
inline bool Has(const Span& span, std::string_view key) {
  return FindAttribute(span.attributes, key) != nullptr;
}

}  // namespace jamjet::genai::testing
