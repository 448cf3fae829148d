// Anthropic Messages API (POST /v1/messages).
#include "agent/genai/json_util.h"
#include "agent/genai/provider.h"
#include "agent/genai/text_util.h"
#include "agent/http/sse.h"

namespace jamjet::genai {
namespace {

using nlohmann::json;

// Usage fields as Anthropic reports them: input_tokens excludes cache reads and writes.
struct RawUsage {
  std::optional<int64_t> input_tokens;
  std::optional<int64_t> cache_read_input_tokens;
  std::optional<int64_t> cache_creation_input_tokens;
  std::optional<int64_t> output_tokens;
};

// Overwrites each field that `usage` carries. Stream usage in message_delta is cumulative, so the
// last value seen is the total, and values are never added up. message_start also carries an
// early output_tokens count, which `with_output` = false skips, so that a stream cut off before
// its message_delta reports output as missing instead of the early count.
void UpdateUsage(const json& usage, bool with_output, RawUsage& raw) {
  UpdateCount(usage, "input_tokens", raw.input_tokens);
  UpdateCount(usage, "cache_read_input_tokens", raw.cache_read_input_tokens);
  UpdateCount(usage, "cache_creation_input_tokens", raw.cache_creation_input_tokens);
  if (with_output) UpdateCount(usage, "output_tokens", raw.output_tokens);
}

// TODO: usage.cache_creation splits cache writes into 5-minute and 1-hour writes, which are
// priced differently. Only the total is read.
Usage Normalize(const RawUsage& raw) {
  Usage usage;
  int64_t total = 0;
  // The sum is left missing when the counts are so large that it would overflow.
  if (raw.input_tokens.has_value() &&
      !__builtin_add_overflow(*raw.input_tokens, raw.cache_read_input_tokens.value_or(0), &total) &&
      !__builtin_add_overflow(total, raw.cache_creation_input_tokens.value_or(0), &total)) {
    usage.input_tokens = total;
  }
  usage.output_tokens = raw.output_tokens;
  usage.cache_read_input_tokens = raw.cache_read_input_tokens;
  usage.cache_creation_input_tokens = raw.cache_creation_input_tokens;
  return usage;
}

// Reads {"type": "error", "error": {"type": "overloaded_error", ...}}.
std::optional<std::string> ParseErrorType(const json& document) {
  const json* error = FindObject(document, "error");
  if (error == nullptr) return std::nullopt;
  return GetString(*error, "type");
}

void SetStopReason(const json& object, ResponseInfo& info) {
  if (std::optional<std::string> reason = GetString(object, "stop_reason")) {
    info.finish_reasons = {std::move(*reason)};
  }
}

// Reads a whole Message object, or an error object.
void ApplyMessage(const json& message, ResponseInfo& info, RawUsage& raw) {
  UpdateString(message, "id", info.id);
  UpdateString(message, "model", info.model);
  SetStopReason(message, info);
  if (const json* usage = FindObject(message, "usage")) UpdateUsage(*usage, true, raw);
  if (std::optional<std::string> error_type = ParseErrorType(message)) {
    info.error_type = std::move(error_type);
  }
}

// Applies one stream event. content_block_*, ping and message_stop carry nothing that is kept.
void ApplyEvent(const http::SseEvent& event, ResponseInfo& info, RawUsage& raw) {
  std::optional<json> data = ParseJsonObject(event.data);
  if (!data.has_value()) return;
  std::string type = GetString(*data, "type").value_or(event.event);

  if (type == "message_start") {
    const json* message = FindObject(*data, "message");
    if (message == nullptr) return;
    UpdateString(*message, "id", info.id);
    UpdateString(*message, "model", info.model);
    if (const json* usage = FindObject(*message, "usage")) UpdateUsage(*usage, false, raw);
  } else if (type == "message_delta") {
    if (const json* delta = FindObject(*data, "delta")) SetStopReason(*delta, info);
    if (const json* usage = FindObject(*data, "usage")) UpdateUsage(*usage, true, raw);
  } else if (type == "error") {
    info.error_type = ParseErrorType(*data).value_or("error");
  }
}

bool HasAnthropicHost(const http::Message& request) {
  std::optional<std::string_view> host = http::FindHeader(request.headers, "host");
  if (!host.has_value()) return false;
  std::string lower = AsciiLower(*host);
  return lower == "api.anthropic.com" || lower.starts_with("api.anthropic.com:");
}

class Anthropic final : public Provider {
 public:
  ProviderId Id() const override { return ProviderId::kAnthropic; }
  std::string_view Name() const override { return "anthropic"; }

  std::optional<RequestInfo> MatchRequest(const http::Message& request, std::string_view path,
                                          const json* body) const override {
    if (!path.ends_with("/messages")) return std::nullopt;
    bool has_version_header = http::FindHeader(request.headers, "anthropic-version").has_value();

    if (body == nullptr) {
      // A partial body cannot be checked, and "/messages" alone is too common a path.
      bool known_api = has_version_header || HasAnthropicHost(request);
      if (known_api && path.ends_with("/v1/messages")) return RequestInfo{};
      return std::nullopt;
    }

    RequestInfo info{GetString(*body, "model"), GetBool(*body, "stream").value_or(false)};
    bool messages_shape = info.model.has_value() && FindArray(*body, "messages") != nullptr &&
                          GetCount(*body, "max_tokens").has_value();
    if (!messages_shape && !has_version_header) return std::nullopt;
    if (const json* metadata = FindObject(*body, "metadata")) {
      std::optional<std::string> user = GetString(*metadata, "user_id");
      if (user.has_value() && !user->empty()) {
        info.end_user_id = std::move(user);
        info.end_user_field = "metadata.user_id";
      }
    }
    return info;
  }

  ResponseInfo ParseResponse(const http::Message& response,
                             std::optional<bool> request_stream) const override {
    ResponseInfo info;
    RawUsage raw;
    info.streamed = IsEventStream(response, request_stream);
    if (info.streamed) {
      for (const http::SseEvent& event : http::ParseSse(response.body)) {
        ApplyEvent(event, info, raw);
      }
    } else if (std::optional<json> document = ParseJsonObject(response.body)) {
      ApplyMessage(*document, info, raw);
    }
    info.usage = Normalize(raw);
    return info;
  }
};

}  // namespace

const Provider& AnthropicProvider() {
  static const Anthropic kProvider;
  return kProvider;
}

}  // namespace jamjet::genai
