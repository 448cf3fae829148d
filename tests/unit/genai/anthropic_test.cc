// Anthropic Messages responses, plain and streamed, turned into spans.
#include <gtest/gtest.h>

#include "tests/unit/genai/test_util.h"

namespace jamjet::genai {
namespace {

using namespace testing;

const http::Headers kAnthropicHeaders = {{"Host", "api.anthropic.com"},
                                         {"anthropic-version", "2023-06-01"}};

constexpr char kRequestBody[] = R"({"model":"claude-sonnet-4-20250514","max_tokens":1024,)"
                                R"("messages":[{"role":"user","content":"Hello, Claude"}]})";
constexpr char kStreamRequestBody[] =
    R"({"model":"claude-sonnet-4-20250514","max_tokens":1024,"stream":true,)"
    R"("messages":[{"role":"user","content":"Hello, Claude"}]})";

constexpr char kMessage[] = R"({
  "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
  "type": "message",
  "role": "assistant",
  "model": "claude-sonnet-4-20250514",
  "content": [{"type": "text", "text": "Hi! My name is Claude."}],
  "stop_reason": "end_turn",
  "stop_sequence": null,
  "usage": {"input_tokens": 100, "cache_creation_input_tokens": 2000,
            "cache_read_input_tokens": 3000, "output_tokens": 50}
})";

constexpr char kStreamStart[] =
    "event: message_start\n"
    "data: "
    "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY\","
    "\"type\":\"message\",\"role\":\"assistant\",\"content\":[],"
    "\"model\":\"claude-sonnet-4-20250514\",\"stop_reason\":null,\"stop_sequence\":null,"
    "\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":0,"
    "\"cache_read_input_tokens\":0,\"output_tokens\":1}}}\n\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\","
    "\"text\":\"\"}}\n\n"
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"Hello\"}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n";
constexpr char kFirstDelta[] =
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":null,\"stop_sequence\":null},"
    "\"usage\":{\"output_tokens\":5}}\n\n";
constexpr char kLastDelta[] =
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
    "\"stop_sequence\":null},\"usage\":{\"output_tokens\":12}}\n\n";
constexpr char kStop[] = "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

Span BuildOrFail(const Exchange& exchange) {
  std::optional<Span> span = Build(exchange);
  EXPECT_TRUE(span.has_value());
  return span.value_or(Span{});
}

http::Message StreamRequest() {
  return MakeRequest("/v1/messages", kStreamRequestBody, kAnthropicHeaders);
}

TEST(Anthropic, NonStreamingWithCacheTokens) {
  Span span = BuildOrFail(MakeExchange(MakeRequest("/v1/messages", kRequestBody, kAnthropicHeaders),
                                       MakeJsonResponse(200, kMessage)));
  EXPECT_EQ(span.name, "chat claude-sonnet-4-20250514");
  EXPECT_EQ(span.status_code, StatusCode::kUnset);
  EXPECT_EQ(GetString(span, "gen_ai.provider.name"), "anthropic");
  EXPECT_EQ(GetString(span, "gen_ai.response.id"), "msg_013Zva2CMHLNnXjNJJKqJ2EF");
  EXPECT_EQ(GetString(span, "gen_ai.response.model"), "claude-sonnet-4-20250514");
  EXPECT_EQ(GetList(span, "gen_ai.response.finish_reasons"), std::vector<std::string>{"end_turn"});
  // input_tokens excludes cache reads and writes, and the span's input count includes them.
  EXPECT_EQ(GetInt(span, "gen_ai.usage.input_tokens"), 5100);
  EXPECT_EQ(GetInt(span, "gen_ai.usage.output_tokens"), 50);
  EXPECT_EQ(GetInt(span, "gen_ai.usage.cache_read.input_tokens"), 3000);
  EXPECT_EQ(GetInt(span, "gen_ai.usage.cache_creation.input_tokens"), 2000);
  EXPECT_FALSE(Has(span, "gen_ai.usage.reasoning.output_tokens"));
  EXPECT_EQ(GetString(span, "server.address"), "api.anthropic.com");
  EXPECT_EQ(GetInt(span, "server.port"), 443);
  // 100 input at $3, 3000 cache reads at $0.30, 2000 cache writes at $3.75, 50 output at $15.
  ASSERT_TRUE(GetDouble(span, "cost_usd").has_value());
  EXPECT_NEAR(*GetDouble(span, "cost_usd"), 0.0003 + 0.0009 + 0.0075 + 0.00075, 1e-12);
}

TEST(Anthropic, StreamUsesLastCumulativeUsage) {
  std::string stream = std::string(kStreamStart) + kFirstDelta + kLastDelta + kStop;
  Span span = BuildOrFail(MakeExchange(StreamRequest(), MakeSseResponse(stream)));
  EXPECT_EQ(span.status_code, StatusCode::kUnset);
  EXPECT_EQ(GetBool(span, "gen_ai.request.stream"), true);
  EXPECT_EQ(GetString(span, "gen_ai.response.id"), "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY");
  EXPECT_EQ(GetList(span, "gen_ai.response.finish_reasons"), std::vector<std::string>{"end_turn"});
  EXPECT_EQ(GetInt(span, "gen_ai.usage.input_tokens"), 25);
  EXPECT_EQ(GetInt(span, "gen_ai.usage.output_tokens"), 12);
  EXPECT_EQ(GetInt(span, "gen_ai.usage.cache_read.input_tokens"), 0);
  EXPECT_TRUE(Has(span, "gen_ai.response.time_to_first_chunk"));
  EXPECT_TRUE(Has(span, "cost_usd"));
}

TEST(Anthropic, StreamDeltaOverridesInputCounts) {
  std::string delta =
      "event: message_delta\n"
      "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},"
      "\"usage\":{\"input_tokens\":30,\"cache_read_input_tokens\":7,\"output_tokens\":9}}\n\n";
  Span span = BuildOrFail(
      MakeExchange(StreamRequest(), MakeSseResponse(std::string(kStreamStart) + delta + kStop)));
  EXPECT_EQ(GetInt(span, "gen_ai.usage.input_tokens"), 37);
  EXPECT_EQ(GetInt(span, "gen_ai.usage.cache_read.input_tokens"), 7);
  EXPECT_EQ(GetInt(span, "gen_ai.usage.output_tokens"), 9);
  EXPECT_EQ(GetList(span, "gen_ai.response.finish_reasons"), std::vector<std::string>{"tool_use"});
}

TEST(Anthropic, StreamCutOffBeforeMessageDelta) {
  http::Message response = MakeSseResponse(kStreamStart);
  response.complete = false;
  Span span = BuildOrFail(MakeExchange(StreamRequest(), response));
  EXPECT_EQ(span.status_code, StatusCode::kError);
  EXPECT_EQ(GetString(span, "error.type"), "response_incomplete");
  EXPECT_EQ(GetString(span, "gen_ai.response.id"), "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY");
  EXPECT_EQ(GetString(span, "gen_ai.response.model"), "claude-sonnet-4-20250514");
  // message_start reports the final input count but only an early output count.
  EXPECT_EQ(GetInt(span, "gen_ai.usage.input_tokens"), 25);
  EXPECT_FALSE(Has(span, "gen_ai.usage.output_tokens"));
  EXPECT_FALSE(Has(span, "cost_usd"));
  EXPECT_FALSE(Has(span, "gen_ai.response.finish_reasons"));
}

TEST(Anthropic, StreamErrorEvent) {
  std::string stream = std::string(kStreamStart) +
                       "event: error\n"
                       "data: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", "
                       "\"message\": \"Overloaded\"}}\n\n";
  Span span = BuildOrFail(MakeExchange(StreamRequest(), MakeSseResponse(stream)));
  EXPECT_EQ(span.status_code, StatusCode::kError);
  EXPECT_EQ(GetString(span, "error.type"), "overloaded_error");
  EXPECT_EQ(span.status_message, "stream error: overloaded_error");
  EXPECT_EQ(GetInt(span, "http.response.status_code"), 200);
  EXPECT_FALSE(Has(span, "gen_ai.usage.output_tokens"));
}

TEST(Anthropic, OverloadedStatus529) {
  constexpr char kBody[] =
      R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},)"
      R"("request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"})";
  Span span = BuildOrFail(MakeExchange(MakeRequest("/v1/messages", kRequestBody, kAnthropicHeaders),
                                       MakeJsonResponse(529, kBody)));
  EXPECT_EQ(span.status_code, StatusCode::kError);
  EXPECT_EQ(GetString(span, "error.type"), "overloaded_error");
  EXPECT_EQ(span.status_message, "HTTP 529: overloaded_error");
  EXPECT_EQ(GetInt(span, "http.response.status_code"), 529);
  EXPECT_FALSE(Has(span, "gen_ai.usage.input_tokens"));
}

TEST(Anthropic, ErrorStatusWithoutJsonBody) {
  Span span = BuildOrFail(MakeExchange(MakeRequest("/v1/messages", kRequestBody, kAnthropicHeaders),
                                       MakeResponse(503, "text/plain", "upstream connect error")));
  EXPECT_EQ(GetString(span, "error.type"), "503");
}

TEST(Anthropic, GarbageStreamDoesNotThrow) {
  std::string stream =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":[1]}\n\n"
      "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":"
      "\"many\"},\"delta\":7}\n\n"
      "event: message_delta\ndata: {not json\n\n"
      "event: error\ndata: {\"type\":\"error\",\"error\":\"boom\"}\n\n";
  Span span = BuildOrFail(MakeExchange(StreamRequest(), MakeSseResponse(stream)));
  EXPECT_FALSE(Has(span, "gen_ai.usage.input_tokens"));
  EXPECT_FALSE(Has(span, "gen_ai.usage.output_tokens"));
  EXPECT_EQ(GetString(span, "error.type"), "error");
}

TEST(Anthropic, TruncatedRequestBodyStillDetected) {
  http::Message request =
      MakeRequest("/v1/messages", std::string(kRequestBody).substr(0, 30), kAnthropicHeaders);
  request.body_truncated = true;
  Span span = BuildOrFail(MakeExchange(request, MakeJsonResponse(200, kMessage)));
  EXPECT_EQ(span.name, "chat");
  EXPECT_FALSE(Has(span, "gen_ai.request.model"));
  EXPECT_EQ(GetString(span, "gen_ai.response.model"), "claude-sonnet-4-20250514");
  EXPECT_EQ(GetBool(span, "jamjet.http.request.body_truncated"), true);
  // The response model prices the call when the request model is unknown.
  EXPECT_TRUE(Has(span, "cost_usd"));
}

}  // namespace
}  // namespace jamjet::genai
