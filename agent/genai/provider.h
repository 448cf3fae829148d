// The interface that each LLM API provider implements, one source file per provider.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/genai/usage.h"
#include "agent/http/message.h"

namespace jamjet::genai {

// Provider ids double as indexes into per-provider tables such as the price table.
enum class ProviderId { kOpenAi, kAnthropic };
inline constexpr size_t kProviderCount = 2;

// Fields taken from the request of a recognised LLM call.
struct RequestInfo {
  std::optional<std::string> model;
  // The body's "stream" flag, false when the body leaves it out (the APIs' default) and empty
  // when the body was unreadable.
  std::optional<bool> stream;
  std::string_view operation = "chat";  // gen_ai.operation.name
  // End-user id that the body itself carries, and the body field it came from. Used when the
  // application stated no user context.
  std::optional<std::string> end_user_id;
  std::string_view end_user_field;
};

// Fields taken from the response. Empty optionals mean the response did not carry the value.
struct ResponseInfo {
  bool streamed = false;  // the body was parsed as server-sent events
  std::optional<std::string> id;
  std::optional<std::string> model;
  std::vector<std::string> finish_reasons;
  Usage usage;
  // Provider error type from an error body or a stream error event, such as "overloaded_error".
  std::optional<std::string> error_type;
};

class Provider {
 public:
  virtual ~Provider() = default;

  virtual ProviderId Id() const = 0;
  // Returns the gen_ai.provider.name value, such as "openai".
  virtual std::string_view Name() const = 0;

  // Returns the request fields when `request` is a call to this provider's API, else nullopt.
  // `path` is the request target without its query string. `body` is the parsed request body, or
  // nullptr when the body was truncated or could not be decoded, in which case the provider
  // decides from the path and headers alone.
  virtual std::optional<RequestInfo> MatchRequest(const http::Message& request,
                                                  std::string_view path,
                                                  const nlohmann::json* body) const = 0;

  // Parses a response body of any status. `request_stream` is the request's "stream" flag.
  virtual ResponseInfo ParseResponse(const http::Message& response,
                                     std::optional<bool> request_stream) const = 0;
};

// The built-in providers, defined in openai.cc and anthropic.cc.
const Provider& OpenAiProvider();
const Provider& AnthropicProvider();

// Returns true when `response` should be parsed as server-sent events: its content type is
// text/event-stream, or it has no content type and the request asked for a stream.
bool IsEventStream(const http::Message& response, std::optional<bool> request_stream);

}  // namespace jamjet::genai
