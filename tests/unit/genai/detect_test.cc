// Recognition of LLM API calls by method, path, body shape and headers.
#include "agent/genai/detect.h"

#include <gtest/gtest.h>

#include "tests/unit/genai/test_util.h"

namespace jamjet::genai {
namespace {

using testing::MakeRequest;

constexpr char kChatBody[] = R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})";
constexpr char kClaudeBody[] =
    R"({"model":"claude-haiku-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}]})";

std::optional<std::string_view> ProviderName(const http::Message& request) {
  std::optional<DetectedCall> call = DetectLlmCall(request);
  if (!call.has_value()) return std::nullopt;
  return call->provider->Name();
}

TEST(TargetPath, DropsQueryAndFragment) {
  EXPECT_EQ(TargetPath("/v1/chat/completions?api-version=2024-10-21"), "/v1/chat/completions");
  EXPECT_EQ(TargetPath("/v1/messages#frag"), "/v1/messages");
  EXPECT_EQ(TargetPath("/v1/messages"), "/v1/messages");
}

TEST(Detect, OpenAiChatCompletions) {
  std::optional<DetectedCall> call = DetectLlmCall(MakeRequest("/v1/chat/completions", kChatBody));
  ASSERT_TRUE(call.has_value());
  EXPECT_EQ(call->provider->Id(), ProviderId::kOpenAi);
  EXPECT_EQ(call->request.model, "gpt-4o");
  EXPECT_EQ(call->request.stream, false);
  EXPECT_EQ(call->request.operation, "chat");
}

TEST(Detect, GatewayPrefixesAndAnyHost) {
  const http::Headers headers = {{"Host", "llm-gateway.internal:8443"}};
  for (const char* target : {"/openai/v1/chat/completions", "/proxy/xyz/v1/chat/completions",
                             "/chat/completions", "/api/v1/chat/completions?key=abc",
                             "/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21"}) {
    SCOPED_TRACE(target);
    EXPECT_EQ(ProviderName(MakeRequest(target, kChatBody, headers)), "openai");
  }
  for (const char* target : {"/v1/messages", "/anthropic/v1/messages", "/proxy/abc/v1/messages",
                             "/v1/messages?beta=true"}) {
    SCOPED_TRACE(target);
    EXPECT_EQ(ProviderName(MakeRequest(target, kClaudeBody, headers)), "anthropic");
  }
}

TEST(Detect, AnthropicByVersionHeader) {
  http::Message request = MakeRequest("/v1/messages", R"({"model":"claude-haiku-4-5"})",
                                      {{"anthropic-version", "2023-06-01"}});
  EXPECT_EQ(ProviderName(request), "anthropic");
}

TEST(Detect, AnthropicBodyNeedsMaxTokens) {
  http::Message request = MakeRequest("/api/messages", kChatBody, {{"Host", "chat.example"}});
  EXPECT_EQ(ProviderName(request), std::nullopt);
}

TEST(Detect, StreamFlagRead) {
  std::optional<DetectedCall> call = DetectLlmCall(MakeRequest(
      "/v1/chat/completions",
      R"({"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]})"));
  ASSERT_TRUE(call.has_value());
  EXPECT_EQ(call->request.stream, true);
}

TEST(Detect, NonLlmRequestsIgnored) {
  http::Message models = MakeRequest("/v1/models", "");
  models.method = "GET";
  EXPECT_EQ(ProviderName(models), std::nullopt);

  http::Message get_chat = MakeRequest("/v1/chat/completions", kChatBody);
  get_chat.method = "GET";
  EXPECT_EQ(ProviderName(get_chat), std::nullopt);

  EXPECT_EQ(ProviderName(MakeRequest("/v1/embeddings",
                                     R"({"model":"text-embedding-3-small","input":"hello"})")),
            std::nullopt);
  EXPECT_EQ(ProviderName(MakeRequest("/v1/completions", R"({"model":"x","prompt":"hi"})")),
            std::nullopt);
  EXPECT_EQ(ProviderName(MakeRequest("/api/orders", kChatBody)), std::nullopt);
  EXPECT_EQ(ProviderName(MakeRequest("/v1/messages/count_tokens", kClaudeBody)), std::nullopt);
  EXPECT_EQ(ProviderName(MakeRequest("/v1/chat/completions/x", kChatBody)), std::nullopt);
  // The path must end in the endpoint, so a query string cannot fake it.
  EXPECT_EQ(ProviderName(MakeRequest("/search?q=/v1/chat/completions", kChatBody)), std::nullopt);
}

TEST(Detect, WrongBodyShapeIgnored) {
  for (const char* body :
       {"", "not json", "[]", R"({"model":"gpt-4o"})", R"({"model":7,"messages":[]})",
        R"({"model":"gpt-4o","messages":{}})", R"({"messages":[]})"}) {
    SCOPED_TRACE(body);
    EXPECT_EQ(ProviderName(MakeRequest("/v1/chat/completions", body)), std::nullopt);
  }
}

TEST(Detect, TruncatedChatBodyDetectedByPath) {
  http::Message request = MakeRequest("/v1/chat/completions", R"({"messages":[{"role":"us)");
  request.body_truncated = true;
  std::optional<DetectedCall> call = DetectLlmCall(request);
  ASSERT_TRUE(call.has_value());
  EXPECT_EQ(call->provider->Id(), ProviderId::kOpenAi);
  EXPECT_FALSE(call->request.model.has_value());
  EXPECT_FALSE(call->request.stream.has_value());
}

TEST(Detect, TruncatedMessagesBodyNeedsAnthropicHint) {
  http::Message request = MakeRequest("/v1/messages", R"({"model":"clau)", {{"Host", "x.example"}});
  request.body_truncated = true;
  EXPECT_EQ(ProviderName(request), std::nullopt);

  request.headers = {{"Host", "API.Anthropic.com"}};
  EXPECT_EQ(ProviderName(request), "anthropic");

  request.headers = {{"anthropic-version", "2023-06-01"}};
  EXPECT_EQ(ProviderName(request), "anthropic");
}

TEST(Detect, UndecodableBodyDetectedByPath) {
  http::Message request = MakeRequest("/v1/chat/completions", "");
  request.decode_error = "unsupported content-encoding: zstd";
  EXPECT_EQ(ProviderName(request), "openai");
}

}  // namespace
}  // namespace jamjet::genai
