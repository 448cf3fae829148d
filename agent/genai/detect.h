// Recognition of LLM API calls among HTTP exchanges.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "agent/genai/provider.h"
#include "agent/http/message.h"

namespace jamjet::genai {

struct DetectedCall {
  const Provider* provider = nullptr;
  RequestInfo request;
};

// Returns the built-in providers in the order in which detection tries them.
std::span<const Provider* const> BuiltInProviders();

// Recognises an LLM API call by method, path and body shape. Servers that speak these APIs run
// at any host and under any path prefix, so the host is not required to match. Returns nullopt
// for anything else, such as model listings, embeddings or unrelated JSON posts.
std::optional<DetectedCall> DetectLlmCall(const http::Message& request);

// Returns the path of an origin-form request target, without query string or fragment.
std::string_view TargetPath(std::string_view target);

// Returns true when the message body may be missing bytes: it was truncated at the capture
// limit, its content encoding failed to decode, or the message did not complete.
bool BodyUnreadable(const http::Message& message);

}  // namespace jamjet::genai
