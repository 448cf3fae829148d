#include "agent/http/sse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace jamjet::http {
namespace {

struct SseCase {
  std::string name;
  std::string body;
  std::vector<SseEvent> expected;
};

class ParseSseTest : public ::testing::TestWithParam<SseCase> {};

TEST_P(ParseSseTest, ParsesEvents) {
  const SseCase& c = GetParam();
  std::vector<SseEvent> events = ParseSse(c.body);
  ASSERT_EQ(events.size(), c.expected.size());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].event, c.expected[i].event) << "event " << i;
    EXPECT_EQ(events[i].data, c.expected[i].data) << "event " << i;
    EXPECT_EQ(events[i].id, c.expected[i].id) << "event " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Streams, ParseSseTest,
    ::testing::Values(
        SseCase{"OpenAiLf",
                "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n"
                "data: [DONE]\n\n",
                {{"message", "{\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}", ""},
                 {"message", "[DONE]", ""}}},
        SseCase{"AnthropicNamedEvents",
                "event: message_start\ndata: {\"type\":\"message_start\"}\n\n"
                "event: ping\ndata: {\"type\": \"ping\"}\n\n"
                "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
                {{"message_start", "{\"type\":\"message_start\"}", ""},
                 {"ping", "{\"type\": \"ping\"}", ""},
                 {"message_stop", "{\"type\":\"message_stop\"}", ""}}},
        SseCase{"CrLf",
                "event: a\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n",
                {{"a", "1", ""}, {"message", "2", ""}}},
        SseCase{"Cr", "event: a\rdata: 1\r\rdata: 2\r\r", {{"a", "1", ""}, {"message", "2", ""}}},
        SseCase{"MixedEndings", "data: 1\r\ndata: 2\n\r", {{"message", "1\n2", ""}}},
        SseCase{"MultiLineData",
                "data: line one\ndata: line two\ndata:\n\n",
                {{"message", "line one\nline two\n", ""}}},
        SseCase{"NoSpaceAfterColon",
                "data:x\ndata:  two spaces\n\n",
                {{"message", "x\n two spaces", ""}}},
        SseCase{"Comments",
                ": keep-alive\n\n: OPENROUTER PROCESSING\ndata: ok\n\n",
                {{"message", "ok", ""}}},
        SseCase{"IdCarriesOver",
                "id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n",
                {{"message", "a", "7"}, {"message", "b", "7"}, {"message", "c", ""}}},
        SseCase{"EventWithoutDataDropped", "event: ping\n\ndata: x\n\n", {{"message", "x", ""}}},
        SseCase{
            "RetryAndUnknownIgnored", "retry: 3000\nfoo: bar\ndata: x\n\n", {{"message", "x", ""}}},
        SseCase{"CutOffLastEvent", "data: first\n\ndata: second", {{"message", "first", ""}}},
        SseCase{
            "CutOffBeforeBlankLine", "data: first\n\ndata: second\n", {{"message", "first", ""}}},
        SseCase{"Bom",
                "\xEF\xBB\xBF"
                "data: x\n\n",
                {{"message", "x", ""}}},
        SseCase{"Empty", "", {}}),
    [](const ::testing::TestParamInfo<SseCase>& info) { return info.param.name; });

}  // namespace
}  // namespace jamjet::http
