#include "agent/genai/provider.h"

#include "agent/genai/text_util.h"

namespace jamjet::genai {

bool IsEventStream(const http::Message& response, std::optional<bool> request_stream) {
  std::optional<std::string_view> content_type = http::FindHeader(response.headers, "content-type");
  if (!content_type.has_value()) return request_stream.value_or(false);
  return AsciiLower(*content_type).find("text/event-stream") != std::string::npos;
}

}  // namespace jamjet::genai
