// OpenAI Chat Completions responses, plain and streamed, turned into spans.
#include <gtest/gtest.h>

#include "tests/unit/genai/test_util.h"

namespace jamjet::genai {
namespace {

using namespace testing;

constexpr char kRequestBody[] =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hi"}]})";
constexpr char kStreamRequestBody[] =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hi"}],)"
    R"("stream":true,"stream_options":{"include_usage":true}})";

constexpr char kCompletion[] = R"({
  "id": "chatcmpl-AbC123",
  "object": "chat.completion",
  "created": 1741569952,
  "model": "gpt-4o-mini-2024-07-18",
  "choices": [{
    "index": 0,
    "message": {"role": "assistant", "content": "Hi!", "refusal": null},
    "logprobs": null,
    "finish_reason": "stop"
  }],
  "usage": {
    "prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
      "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
  },
  "service_tier": "default",
  "system_fingerprint": "fp_06737a9306"
})";

// Chunks up to the finish_reason, without the usage chunk or [DONE].
constexpr char kStreamHead[] =
    "data: {\"id\":\"chatcmpl-S1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
    "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"role\":"
    "\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-S1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
    "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
    "\"Hi\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-S1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
    "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"delta\":{},"
    "\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n";
constexpr char kUsageChunk[] =
    "data: {\"id\":\"chatcmpl-S1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
    "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,"
    "\"completion_tokens\":3,\"total_tokens\":15,\"prompt_tokens_details\":{\"cached_tokens\":0},"
    "\"completion_tokens_details\":{\"reasoning_tokens\":0}}}\n\n";
constexpr char kDone[] = "data: [DONE]\n\n";

Span BuildOrFail(const Exchange& exchange) {
  std::optional<Span> span = Build(exchange);
  EXPECT_TRUE(span.has_value());
  return span.value_or(Span{});
}

void ExpectNoUsage(const Span& span) {
  EXPECT_FALSE(Has(span, "gen_ai.usage.input_tokens"));
  EXPECT_FALSE(Has(span, "gen_ai.usage.output_tokens"));
  EXPECT_FALSE(Has(span, "gen_ai.usage.cache_read.input_tokens"));
  EXPECT_FALSE(Has(span, "gen_ai.usage.reasoning.output_tokens"));
  EXPECT_FALSE(Has(span, "cost_usd"));
}

TEST(OpenAi, NonStreamingCompletion) {
  Span span = BuildOrFail(MakeExchange(MakeRequest("/v1/chat/completions", kRequestBody),
                                       MakeJsonResponse(200, kCompletion)));
  EXPECT_EQ(span.name, "chat gpt-4o-mini");
  EXPECT_EQ(span.status_code, StatusCode::kUnset);
  EXPECT_EQ(GetString(span, "gen_ai.provider.name"), "openai");
  EXPECT_EQ(GetString(span, "gen_ai.operation.name"), "chat");
  EXPECT_EQ(GetString(span, "gen_ai.request.model"), "gpt-4o-mini");
  EXPECT_EQ(GetString(span, "gen_ai.response.model"), "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(GetString(span, "gen_ai.response.id"), "chatcmpl-AbC123");
  EXPECT_EQ(GetList(span, "gen_ai.response.finish_reasons"), std::vector<std::string>{"stop"});
  EXPECT_EQ(GetInt(span, "gen_ai.usage.input_tokens"), 19);
  EXPECT_EQ(GetInt(span, "gen_ai.usage.output_tokens"), 10);
  EXPECT_EQ(GetInt(span, "gen_ai.usage.cache_read.input_tokens"), 0);
  EXPECT_EQ(GetInt(span, "gen_ai.usage.reasoning.output_tokens"), 0);
  EXPECT_FALSE(Has(span, "gen_ai.usage.cache_creation.input_tokens"));
  EXPECT_EQ(GetBool(span, "gen_ai.request.stream"), false);
  EXPECT_FALSE(Has(span, "gen_ai.response.time_to_first_chunk"));
  EXPECT_FALSE(Has(span, "error.type"));
  EXPECT_EQ(GetInt(span, "http.response.status_code"), 200);
  // 19 input tokens at $0.15 and 10 output tokens at $0.60 per million.
  ASSERT_TRUE(GetDouble(span, "cost_usd").has_value());
  EXPECT_NEAR(*GetDouble(span, "cost_usd"), 8.85e-6, 1e-12);
}

TEST(OpenAi, StreamWithIncludeUsage) {
  Span span =
      BuildOrFail(MakeExchange(MakeRequest("/v1/chat/completions", kStreamRequestBody),
                               MakeSseResponse(std::string(kStreamHead) + kUsageChunk + kDone)));
  EXPECT_EQ(span.status_code, StatusCode::kUnset);
  EXPECT_EQ(GetBool(span, "gen_ai.request.stream"), true);
  EXPECT_EQ(GetString(span, "gen_ai.response.id"), "chatcmpl-S1");
  EXPECT_EQ(GetString(span, "gen_ai.response.model"), "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(GetList(span, "gen_ai.response.finish_reasons"), std::vector<std::string>{"stop"});
  EXPECT_EQ(GetInt(span, "gen_ai.usage.input_tokens"), 12);
  EXPECT_EQ(GetInt(span, "gen_ai.usage.output_tokens"), 3);
  ASSERT_TRUE(GetDouble(span, "gen_ai.response.time_to_first_chunk").has_value());
  EXPECT_DOUBLE_EQ(*GetDouble(span, "gen_ai.response.time_to_first_chunk"), 0.25);
  EXPECT_TRUE(Has(span, "cost_usd"));
}

TEST(OpenAi, StreamWithoutUsageLeavesUsageMissing) {
  Span span = BuildOrFail(MakeExchange(MakeRequest("/v1/chat/completions", kStreamRequestBody),
                                       MakeSseResponse(std::string(kStreamHead) + kDone)));
  EXPECT_EQ(span.status_code, StatusCode::kUnset);
  EXPECT_EQ(GetList(span, "gen_ai.response.finish_reasons"), std::vector<std::string>{"stop"});
  ExpectNoUsage(span);
}

TEST(OpenAi, CutOffStreamIsIncomplete) {
  http::Message response = MakeSseResponse(std::string(kStreamHead).substr(0, 400));
  response.complete = false;
  Span span =
      BuildOrFail(MakeExchange(MakeRequest("/v1/chat/completions", kStreamRequestBody), response));
  EXPECT_EQ(span.status_code, StatusCode::kError);
  EXPECT_EQ(GetString(span, "error.type"), "response_incomplete");
  EXPECT_EQ(GetString(span, "gen_ai.response.id"), "chatcmpl-S1");
  EXPECT_FALSE(Has(span, "gen_ai.response.finish_reasons"));
  ExpectNoUsage(span);
}

TEST(OpenAi, StreamDetectedByContentTypeAlone) {
  Span span =
      BuildOrFail(MakeExchange(MakeRequest("/v1/chat/completions", kRequestBody),
                               MakeSseResponse(std::string(kStreamHead) + kUsageChunk + kDone)));
  EXPECT_EQ(GetBool(span, "gen_ai.request.stream"), false);
  EXPECT_EQ(GetInt(span, "gen_ai.usage.output_tokens"), 3);
  EXPECT_TRUE(Has(span, "gen_ai.response.time_to_first_chunk"));
}

TEST(OpenAi, CachedAndReasoningTokens) {
  constexpr char kBody[] = R"({
    "id": "chatcmpl-R1", "object": "chat.completion", "model": "o4-mini-2025-04-16",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "4"},
                 "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 2000, "completion_tokens": 500, "total_tokens": 2500,
              "prompt_tokens_details": {"cached_tokens": 1024},
              "completion_tokens_details": {"reasoning_tokens": 448}}
  })";
  Span span = BuildOrFail(MakeExchange(
      MakeRequest("/v1/chat/completions",
                  R"({"model":"o4-mini","messages":[{"role":"user","content":"2+2"}]})"),
      MakeJsonResponse(200, kBody)));
  EXPECT_EQ(GetInt(span, "gen_ai.usage.input_tokens"), 2000);
  EXPECT_EQ(GetInt(span, "gen_ai.usage.output_tokens"), 500);
  EXPECT_EQ(GetInt(span, "gen_ai.usage.cache_read.input_tokens"), 1024);
  EXPECT_EQ(GetInt(span, "gen_ai.usage.reasoning.output_tokens"), 448);
  // o4-mini: 976 uncached input at $1.10, 1024 cached at $0.275, 500 output at $4.40 per million.
  ASSERT_TRUE(GetDouble(span, "cost_usd").has_value());
  EXPECT_NEAR(*GetDouble(span, "cost_usd"), 0.0010736 + 0.0002816 + 0.0022, 1e-12);
}

TEST(OpenAi, MultipleChoicesKeepIndexOrder) {
  std::string stream =
      "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":1,\"delta\":{},"
      "\"finish_reason\":\"length\"}]}\n\n"
      "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},"
      "\"finish_reason\":\"stop\"}]}\n\n" +
      std::string(kDone);
  Span span = BuildOrFail(MakeExchange(MakeRequest("/v1/chat/completions", kStreamRequestBody),
                                       MakeSseResponse(stream)));
  EXPECT_EQ(GetList(span, "gen_ai.response.finish_reasons"),
            (std::vector<std::string>{"stop", "length"}));
}

TEST(OpenAi, RateLimitErrorBody) {
  constexpr char kBody[] = R"({"error": {
    "message": "Rate limit reached for gpt-4o-mini in organization org-x on tokens per min.",
    "type": "tokens", "param": null, "code": "rate_limit_exceeded"}})";
  Span span = BuildOrFail(MakeExchange(MakeRequest("/v1/chat/completions", kRequestBody),
                                       MakeJsonResponse(429, kBody)));
  EXPECT_EQ(span.status_code, StatusCode::kError);
  EXPECT_EQ(GetString(span, "error.type"), "tokens");
  EXPECT_EQ(span.status_message, "HTTP 429: tokens");
  EXPECT_EQ(GetInt(span, "http.response.status_code"), 429);
  ExpectNoUsage(span);
}

TEST(OpenAi, ErrorCodeUsedWhenTypeIsNull) {
  constexpr char kBody[] =
      R"({"error": {"message": "slow down", "type": null, "code": "rate_limit_exceeded"}})";
  Span span = BuildOrFail(MakeExchange(MakeRequest("/v1/chat/completions", kRequestBody),
                                       MakeJsonResponse(429, kBody)));
  EXPECT_EQ(GetString(span, "error.type"), "rate_limit_exceeded");
  EXPECT_EQ(span.status_message, "HTTP 429: rate_limit_exceeded");
}

TEST(OpenAi, ErrorWithoutBodyUsesStatusCode) {
  Span span = BuildOrFail(MakeExchange(MakeRequest("/v1/chat/completions", kRequestBody),
                                       MakeResponse(502, "text/html", "<html>Bad gateway</html>")));
  EXPECT_EQ(span.status_code, StatusCode::kError);
  EXPECT_EQ(GetString(span, "error.type"), "502");
  EXPECT_EQ(span.status_message, "HTTP 502");
}

TEST(OpenAi, ErrorChunkInStream) {
  std::string stream = std::string(kStreamHead) +
                       "data: {\"error\":{\"message\":\"x\",\"type\":\"server_error\"}}\n\n";
  Span span = BuildOrFail(MakeExchange(MakeRequest("/v1/chat/completions", kStreamRequestBody),
                                       MakeSseResponse(stream)));
  EXPECT_EQ(span.status_code, StatusCode::kError);
  EXPECT_EQ(GetString(span, "error.type"), "server_error");
  EXPECT_EQ(span.status_message, "stream error: server_error");
}

TEST(OpenAi, GarbageBodiesDoNotThrow) {
  const std::vector<std::string> bodies = {
      "",
      "{",
      "null",
      "[1,2,3]",
      "\xff\xfe\x00garbage",
      R"({"usage": "lots"})",
      R"({"usage": {"prompt_tokens": -5, "completion_tokens": 1.5}})",
      R"({"usage": {"prompt_tokens": 99999999999999999999999}})",
      R"({"choices": "none", "id": 7, "model": ["x"]})",
      R"({"choices": [null, 1, {"finish_reason": 3}]})",
      std::string(100000, '['),
  };
  for (const std::string& body : bodies) {
    SCOPED_TRACE(body.substr(0, 40));
    Span span = BuildOrFail(MakeExchange(MakeRequest("/v1/chat/completions", kRequestBody),
                                         MakeJsonResponse(200, body)));
    EXPECT_FALSE(Has(span, "gen_ai.response.id"));
    EXPECT_FALSE(Has(span, "gen_ai.response.model"));
    ExpectNoUsage(span);

    Span stream_span = BuildOrFail(MakeExchange(
        MakeRequest("/v1/chat/completions", kStreamRequestBody), MakeSseResponse("data: " + body)));
    ExpectNoUsage(stream_span);
  }
}

TEST(OpenAi, TruncatedResponseBody) {
  std::string body = std::string(kCompletion).substr(0, 120);
  http::Message response = MakeJsonResponse(200, body);
  response.body_truncated = true;
  Span span =
      BuildOrFail(MakeExchange(MakeRequest("/v1/chat/completions", kRequestBody), response));
  EXPECT_EQ(GetBool(span, "jamjet.http.response.body_truncated"), true);
  EXPECT_FALSE(Has(span, "jamjet.http.request.body_truncated"));
  EXPECT_EQ(span.status_code, StatusCode::kUnset);
  ExpectNoUsage(span);
}

TEST(OpenAi, UndecodableResponseBody) {
  http::Message response = MakeJsonResponse(200, "");
  response.decode_error = "invalid gzip header";
  Span span =
      BuildOrFail(MakeExchange(MakeRequest("/v1/chat/completions", kRequestBody), response));
  EXPECT_EQ(GetInt(span, "http.response.status_code"), 200);
  ExpectNoUsage(span);
}

}  // namespace
}  // namespace jamjet::genai
