// User attributes: the application's context first, then the end-user id in the request body.
#include <gtest/gtest.h>

#include "agent/genai/span_builder.h"
#include "tests/unit/genai/test_util.h"

namespace jamjet::genai {
namespace {

using namespace testing;

constexpr char kCompletion[] =
    R"({"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"hi"},)"
    R"("finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2}})";
constexpr char kAnthropicMessage[] =
    R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5",)"
    R"("content":[],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":4}})";

Exchange OpenAiExchange(const std::string& body) {
  return MakeExchange(MakeRequest("/v1/chat/completions", body),
                      MakeJsonResponse(200, kCompletion));
}

user_context::UserContext ExampleContext() {
  user_context::UserContext context;
  context.user_id = "u-123";
  context.email = "ada@example.com";
  context.attrs = {{"plan", std::string("pro")}, {"seats", 12.0}, {"beta", true}};
  return context;
}

TEST(UserAttributes, ScopeContextSetsAllKeys) {
  Exchange exchange = OpenAiExchange(R"({"model":"gpt-4o-mini","messages":[],"user":"u-body"})");
  exchange.user = {UserSource::kScope, ExampleContext()};
  std::optional<Span> span = Build(exchange);
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(GetString(*span, "user_id"), "u-123");
  EXPECT_EQ(GetString(*span, "user.id"), "u-123");
  EXPECT_EQ(GetString(*span, "user_email"), "ada@example.com");
  EXPECT_EQ(GetString(*span, "user.email"), "ada@example.com");
  EXPECT_EQ(GetString(*span, "user_attrs.plan"), "pro");
  EXPECT_EQ(GetDouble(*span, "user_attrs.seats"), 12.0);
  EXPECT_EQ(GetBool(*span, "user_attrs.beta"), true);
  EXPECT_EQ(GetString(*span, "jamjet.user.source"), "scope");
  EXPECT_FALSE(Has(*span, "jamjet.user.source_field"));
}

TEST(UserAttributes, ProcessContextNamedAsSource) {
  Exchange exchange = OpenAiExchange(R"({"model":"gpt-4o-mini","messages":[]})");
  user_context::UserContext context;
  context.user_id = "cli-user";
  exchange.user = {UserSource::kProcess, context};
  std::optional<Span> span = Build(exchange);
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(GetString(*span, "user_id"), "cli-user");
  EXPECT_FALSE(Has(*span, "user_email"));
  EXPECT_FALSE(Has(*span, "user.email"));
  EXPECT_EQ(GetString(*span, "jamjet.user.source"), "process");
}

TEST(UserAttributes, OpenAiSafetyIdentifierBeatsUser) {
  std::optional<Span> span = Build(OpenAiExchange(
      R"({"model":"gpt-4o-mini","messages":[],"user":"u-old","safety_identifier":"u-new"})"));
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(GetString(*span, "user_id"), "u-new");
  EXPECT_EQ(GetString(*span, "jamjet.user.source"), "request_body");
  EXPECT_EQ(GetString(*span, "jamjet.user.source_field"), "safety_identifier");
}

TEST(UserAttributes, OpenAiUserField) {
  std::optional<Span> span =
      Build(OpenAiExchange(R"({"model":"gpt-4o-mini","messages":[],"user":"u-body"})"));
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(GetString(*span, "user_id"), "u-body");
  EXPECT_EQ(GetString(*span, "user.id"), "u-body");
  EXPECT_EQ(GetString(*span, "jamjet.user.source_field"), "user");
}

TEST(UserAttributes, AnthropicMetadataUserId) {
  Exchange exchange = MakeExchange(
      MakeRequest("/v1/messages",
                  R"({"model":"claude-sonnet-4-5","max_tokens":10,"messages":[],)"
                  R"("metadata":{"user_id":"u-anthropic"}})"),
      MakeJsonResponse(200, kAnthropicMessage));
  std::optional<Span> span = Build(exchange);
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(GetString(*span, "user_id"), "u-anthropic");
  EXPECT_EQ(GetString(*span, "jamjet.user.source"), "request_body");
  EXPECT_EQ(GetString(*span, "jamjet.user.source_field"), "metadata.user_id");
}

TEST(UserAttributes, EmptyOrNonStringBodyUserIgnored) {
  for (const char* body : {R"({"model":"gpt-4o-mini","messages":[],"user":""})",
                           R"({"model":"gpt-4o-mini","messages":[],"user":42})",
                           R"({"model":"gpt-4o-mini","messages":[],"safety_identifier":null})"}) {
    std::optional<Span> span = Build(OpenAiExchange(body));
    ASSERT_TRUE(span.has_value()) << body;
    EXPECT_FALSE(Has(*span, "user_id")) << body;
    EXPECT_EQ(GetString(*span, "jamjet.user.source"), "none") << body;
  }
}

}  // namespace
}  // namespace jamjet::genai
