#include "agent/genai/detect.h"

#include <array>

#include "agent/genai/json_util.h"

namespace jamjet::genai {

std::span<const Provider* const> BuiltInProviders() {
  // To add a provider, implement Provider in its own file and list it here.
  static const std::array<const Provider*, kProviderCount> kProviders = {
      &OpenAiProvider(),
      &AnthropicProvider(),
  };
  return kProviders;
}

std::string_view TargetPath(std::string_view target) {
  size_t end = target.find_first_of("?#");
  return target.substr(0, end);
}

bool BodyUnreadable(const http::Message& message) {
  return message.body_truncated || !message.decode_error.empty() || !message.complete;
}

std::optional<DetectedCall> DetectLlmCall(const http::Message& request) {
  if (request.method != "POST") return std::nullopt;
  std::string_view path = TargetPath(request.target);

  std::optional<nlohmann::json> body = ParseJsonObject(request.body);
  // A complete body that is not a JSON object cannot be an LLM API call. A partial body is left
  // to the providers, which then decide by path and headers.
  if (!body.has_value() && !BodyUnreadable(request)) return std::nullopt;

  const nlohmann::json* body_pointer = body.has_value() ? &*body : nullptr;
  for (const Provider* provider : BuiltInProviders()) {
    std::optional<RequestInfo> info = provider->MatchRequest(request, path, body_pointer);
    if (info.has_value()) return DetectedCall{provider, std::move(*info)};
  }
  return std::nullopt;
}

}  // namespace jamjet::genai
