// Span fields and attributes shared by all providers.
#include "agent/genai/span_builder.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/unit/genai/test_util.h"

namespace jamjet::genai {
namespace {

using namespace testing;

constexpr char kRequestBody[] =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"TOP-SECRET-PROMPT"}]})";
constexpr char kCompletion[] =
    R"({"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini-2024-07-18",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"SECRET-ANSWER"},)"
    R"("finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,)"
    R"("total_tokens":7}})";

std::set<std::string> Keys(const Span& span) {
  std::set<std::string> keys;
  for (const auto& [key, value] : span.attributes) keys.insert(key);
  return keys;
}

Exchange ChatExchange() {
  return MakeExchange(MakeRequest("/v1/chat/completions", kRequestBody),
                      MakeJsonResponse(200, kCompletion));
}

TEST(BuildLlmSpan, IdsKindAndTimes) {
  std::optional<Span> span = Build(ChatExchange());
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->trace_id, kTraceId);
  EXPECT_EQ(span->span_id, kSpanId);
  EXPECT_EQ(span->kind, SpanKind::kClient);
  EXPECT_EQ(span->start_time_unix_nano, kRequestFirstByteNs + kMonotonicToUnixNs);
  EXPECT_EQ(span->end_time_unix_nano, kResponseLastByteNs + kMonotonicToUnixNs);
}

TEST(BuildLlmSpan, ExactAttributeKeys) {
  std::optional<Span> span = Build(ChatExchange());
  ASSERT_TRUE(span.has_value());
  const std::set<std::string> kExpected = {
      "gen_ai.provider.name",
      "gen_ai.operation.name",
      "gen_ai.request.model",
      "gen_ai.request.stream",
      "gen_ai.response.model",
      "gen_ai.response.id",
      "gen_ai.response.finish_reasons",
      "gen_ai.usage.input_tokens",
      "gen_ai.usage.output_tokens",
      "http.response.status_code",
      "server.address",
      "server.port",
      "network.peer.address",
      "network.peer.port",
      "process.pid",
      "process.executable.name",
      "thread.id",
      "cost_usd",
      "jamjet.user.source",
  };
  EXPECT_EQ(Keys(*span), kExpected);
  EXPECT_EQ(span->attributes.size(), kExpected.size());

  EXPECT_EQ(GetString(*span, "server.address"), "api.openai.com");
  EXPECT_EQ(GetInt(*span, "server.port"), 443);
  EXPECT_EQ(GetString(*span, "network.peer.address"), "162.159.140.245");
  EXPECT_EQ(GetInt(*span, "network.peer.port"), 443);
  EXPECT_EQ(GetInt(*span, "process.pid"), 4242);
  EXPECT_EQ(GetInt(*span, "thread.id"), 4243);
  EXPECT_EQ(GetString(*span, "process.executable.name"), "python3");
  EXPECT_EQ(GetString(*span, "jamjet.user.source"), "none");
}

TEST(BuildLlmSpan, UnknownConnectionFieldsOmitted) {
  Exchange exchange = ChatExchange();
  exchange.connection = ConnectionInfo{};
  exchange.request.headers.clear();
  std::optional<Span> span = Build(exchange);
  ASSERT_TRUE(span.has_value());
  for (const char* key :
       {"server.address", "server.port", "network.peer.address", "network.peer.port", "process.pid",
        "process.executable.name", "thread.id"}) {
    EXPECT_FALSE(Has(*span, key)) << key;
  }
}

TEST(BuildLlmSpan, IpV6HostWithPort) {
  Exchange exchange = ChatExchange();
  exchange.request.headers = {{"host", "[2001:db8::1]:8443"}};
  std::optional<Span> span = Build(exchange);
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(GetString(*span, "server.address"), "2001:db8::1");
  EXPECT_EQ(GetInt(*span, "server.port"), 8443);
}

TEST(BuildLlmSpan, MissingResponse) {
  Exchange exchange = MakeExchange(MakeRequest("/v1/chat/completions", kRequestBody), std::nullopt);
  std::optional<Span> span = Build(exchange);
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->status_code, StatusCode::kError);
  EXPECT_FALSE(span->status_message.empty());
  EXPECT_EQ(GetString(*span, "error.type"), "response_incomplete");
  EXPECT_EQ(span->end_time_unix_nano, kRequestLastByteNs + kMonotonicToUnixNs);
  EXPECT_FALSE(Has(*span, "http.response.status_code"));
  EXPECT_FALSE(Has(*span, "gen_ai.usage.input_tokens"));
  EXPECT_FALSE(Has(*span, "cost_usd"));
}

TEST(BuildLlmSpan, IncompleteNonStreamResponse) {
  Exchange exchange = ChatExchange();
  exchange.response->complete = false;
  std::optional<Span> span = Build(exchange);
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->status_code, StatusCode::kError);
  EXPECT_EQ(GetString(*span, "error.type"), "response_incomplete");
}

TEST(BuildLlmSpan, NonLlmExchangeGivesNoSpan) {
  http::Message models = MakeRequest("/v1/models", "");
  models.method = "GET";
  EXPECT_FALSE(Build(MakeExchange(models, MakeJsonResponse(200, R"({"data":[]})"))).has_value());
  EXPECT_FALSE(Build(MakeExchange(MakeRequest("/v1/embeddings",
                                              R"({"model":"text-embedding-3-small","input":"x"})"),
                                  MakeJsonResponse(200, "{}")))
                   .has_value());
  EXPECT_FALSE(
      Build(MakeExchange(MakeRequest("/api/things", R"({"a":1})"), MakeJsonResponse(200, "{}")))
          .has_value());
}

// Returns every string the span carries, in its name, status and attribute values.
std::string AllText(const Span& span) {
  std::string text = span.name + "\n" + span.status_message + "\n";
  for (const auto& [key, value] : span.attributes) {
    text += key + "=";
    if (const auto* string = std::get_if<std::string>(&value)) text += *string;
    if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
      for (const std::string& item : *list) text += item + ",";
    }
    text += "\n";
  }
  return text;
}

TEST(BuildLlmSpan, NoSecretsInSpan) {
  const http::Headers headers = {
      {"Host", "gateway.example:8443"},      {"Authorization", "Bearer sk-proj-SECRETBEARER"},
      {"x-api-key", "sk-ant-SECRETXAPIKEY"}, {"api-key", "SECRETAZUREKEY"},
      {"Cookie", "session=SECRETCOOKIE"},    {"anthropic-version", "2023-06-01"},
  };
  const char* kSecrets[] = {"SECRETBEARER",   "SECRETXAPIKEY",     "SECRETAZUREKEY", "SECRETCOOKIE",
                            "SECRETQUERYKEY", "TOP-SECRET-PROMPT", "SECRET-ANSWER"};
  for (bool error : {false, true}) {
    SCOPED_TRACE(error ? "error response" : "success");
    http::Message request =
        MakeRequest("/v1/chat/completions?key=SECRETQUERYKEY&api-version=1", kRequestBody, headers);
    http::Message response =
        error ? MakeJsonResponse(401, R"({"error":{"message":"Incorrect API key SECRETXAPIKEY",)"
                                      R"("type":"invalid_request_error"}})")
              : MakeJsonResponse(200, kCompletion);
    response.headers.push_back({"Set-Cookie", "SECRETCOOKIE=1"});
    std::optional<Span> span = Build(MakeExchange(request, response));
    ASSERT_TRUE(span.has_value());
    std::string text = AllText(*span);
    for (const char* secret : kSecrets) {
      EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in:\n" << text;
    }
    EXPECT_EQ(text.find("key="), std::string::npos) << text;
  }
}

TEST(BuildLlmSpan, RandomIdSourceFormat) {
  RandomIdSource ids;
  std::string trace_id = ids.NewTraceId();
  std::string span_id = ids.NewSpanId();
  EXPECT_EQ(trace_id.size(), 32u);
  EXPECT_EQ(span_id.size(), 16u);
  EXPECT_EQ(trace_id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(span_id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(trace_id, ids.NewTraceId());
}

}  // namespace
}  // namespace jamjet::genai
