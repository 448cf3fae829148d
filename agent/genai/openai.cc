// OpenAI Chat Completions (POST .../chat/completions), also spoken by many compatible servers.
#include <cstdint>
#include <map>

#include "absl/strings/str_cat.h"
#include "agent/genai/json_util.h"
#include "agent/genai/provider.h"
#include "agent/http/sse.h"

namespace jamjet::genai {
namespace {

using nlohmann::json;

// Reads a "usage" object. In streams it arrives in the last chunk, and only when the request set
// stream_options.include_usage.
Usage ParseUsage(const json& usage) {
  Usage result;
  result.input_tokens = GetCount(usage, "prompt_tokens");
  result.output_tokens = GetCount(usage, "completion_tokens");
  if (const json* details = FindObject(usage, "prompt_tokens_details")) {
    result.cache_read_input_tokens = GetCount(*details, "cached_tokens");
  }
  if (const json* details = FindObject(usage, "completion_tokens_details")) {
    result.reasoning_output_tokens = GetCount(*details, "reasoning_tokens");
  }
  return result;
}

// Reads {"error": {"type": ..., "code": ...}}. Compatible servers often leave "type" null and
// put the reason in "code", which some of them send as a number.
std::optional<std::string> ParseErrorType(const json& document) {
  const json* error = FindObject(document, "error");
  if (error == nullptr) return std::nullopt;
  if (std::optional<std::string> type = GetString(*error, "type")) return type;
  if (std::optional<std::string> code = GetString(*error, "code")) return code;
  if (std::optional<int64_t> code = GetCount(*error, "code")) return absl::StrCat(*code);
  return std::nullopt;
}

// Collects choices[].finish_reason by choice index, skipping nulls.
void CollectFinishReasons(const json& document, std::map<int64_t, std::string>& reasons) {
  const json* choices = FindArray(document, "choices");
  if (choices == nullptr) return;
  int64_t position = 0;
  for (const json& choice : *choices) {
    int64_t index = GetCount(choice, "index").value_or(position);
    ++position;
    if (std::optional<std::string> reason = GetString(choice, "finish_reason")) {
      reasons[index] = std::move(*reason);
    }
  }
}

std::vector<std::string> ToList(std::map<int64_t, std::string>& reasons) {
  std::vector<std::string> list;
  list.reserve(reasons.size());
  for (auto& [index, reason] : reasons) list.push_back(std::move(reason));
  return list;
}

// Applies one chat.completion or chat.completion.chunk object to `info`.
void ApplyDocument(const json& document, ResponseInfo& info,
                   std::map<int64_t, std::string>& reasons) {
  UpdateString(document, "id", info.id);
  UpdateString(document, "model", info.model);
  CollectFinishReasons(document, reasons);
  if (const json* usage = FindObject(document, "usage")) info.usage = ParseUsage(*usage);
  if (std::optional<std::string> error_type = ParseErrorType(document)) {
    info.error_type = std::move(error_type);
  }
}

class OpenAi final : public Provider {
 public:
  ProviderId Id() const override { return ProviderId::kOpenAi; }
  std::string_view Name() const override { return "openai"; }

  std::optional<RequestInfo> MatchRequest(const http::Message& /*request*/, std::string_view path,
                                          const json* body) const override {
    if (!path.ends_with("/chat/completions")) return std::nullopt;
    // A partial body cannot be checked, and the path alone is specific enough.
    if (body == nullptr) return RequestInfo{};

    std::optional<std::string> model = GetString(*body, "model");
    if (!model.has_value() || FindArray(*body, "messages") == nullptr) return std::nullopt;
    RequestInfo info{std::move(model), GetBool(*body, "stream").value_or(false)};
    // safety_identifier replaced "user" as the end-user field; prefer it when both are set.
    for (std::string_view field : {"safety_identifier", "user"}) {
      std::optional<std::string> user = GetString(*body, field);
      if (!user.has_value() || user->empty()) continue;
      info.end_user_id = std::move(user);
      info.end_user_field = field;
      break;
    }
    return info;
  }

  ResponseInfo ParseResponse(const http::Message& response,
                             std::optional<bool> request_stream) const override {
    ResponseInfo info;
    std::map<int64_t, std::string> reasons;
    info.streamed = IsEventStream(response, request_stream);
    if (info.streamed) {
      for (const http::SseEvent& event : http::ParseSse(response.body)) {
        if (event.data == "[DONE]") break;
        std::optional<json> chunk = ParseJsonObject(event.data);
        if (chunk.has_value()) ApplyDocument(*chunk, info, reasons);
      }
    } else if (std::optional<json> document = ParseJsonObject(response.body)) {
      ApplyDocument(*document, info, reasons);
    }
    info.finish_reasons = ToList(reasons);
    return info;
  }
};

}  // namespace

const Provider& OpenAiProvider() {
  static const OpenAi kProvider;
  return kProvider;
}

}  // namespace jamjet::genai
