#include "agent/http/message_start.h"

#include <gtest/gtest.h>

#include <string>

namespace jamjet::http {
namespace {

struct StartCase {
  std::string name;
  Direction direction;
  std::string data;
  MessageStart expected;
};

class MatchMessageStartTest : public ::testing::TestWithParam<StartCase> {};

TEST_P(MatchMessageStartTest, Classifies) {
  const StartCase& c = GetParam();
  EXPECT_EQ(MatchMessageStart(c.direction, c.data), c.expected);
}

constexpr Direction kReq = Direction::kRequest;
constexpr Direction kResp = Direction::kResponse;

INSTANTIATE_TEST_SUITE_P(
    Cases, MatchMessageStartTest,
    ::testing::Values(
        StartCase{"Get", kReq, "GET /v1/models HTTP/1.1\r\n", MessageStart::kMatch},
        StartCase{"PostAbsoluteTarget", kReq, "POST http://api.openai.com/v1 HTTP/1.1\r\n",
                  MessageStart::kMatch},
        StartCase{"Options", kReq, "OPTIONS * HTTP/1.1\r\n", MessageStart::kMatch},
        StartCase{"MSearch", kReq, "M-SEARCH * HTTP/1.1\r\n", MessageStart::kMatch},
        StartCase{"Http10", kReq, "GET / HTTP/1.0\r\n", MessageStart::kMatch},
        StartCase{"MethodOnly", kReq, "PATC", MessageStart::kPrefix},
        StartCase{"InTarget", kReq, "DELETE /v1/files/file-abc", MessageStart::kPrefix},
        StartCase{"InVersion", kReq, "GET /x HTT", MessageStart::kPrefix},
        StartCase{"Empty", kReq, "", MessageStart::kPrefix},
        StartCase{"LowerCaseMethod", kReq, "get / HTTP/1.1\r\n", MessageStart::kNoMatch},
        StartCase{"NoTarget", kReq, "GET  HTTP/1.1\r\n", MessageStart::kNoMatch},
        StartCase{"Http2Version", kReq, "GET / HTTP/2\r\n", MessageStart::kNoMatch},
        StartCase{"JsonBody", kReq, "{\"model\":\"gpt-4o\"}", MessageStart::kNoMatch},
        StartCase{"LongCapitals", kReq, std::string(30, 'A'), MessageStart::kNoMatch},
        StartCase{"TargetWithTab", kReq, "GET /a\tb HTTP/1.1", MessageStart::kNoMatch},
        StartCase{"Preface", kReq, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", MessageStart::kHttp2Preface},
        StartCase{"PrefacePrefix", kReq, "PRI * HTTP/2", MessageStart::kPrefix},
        StartCase{"Status11", kResp, "HTTP/1.1 200 OK\r\n", MessageStart::kMatch},
        StartCase{"Status10", kResp, "HTTP/1.0 404 Not Found\r\n", MessageStart::kMatch},
        StartCase{"StatusPrefix", kResp, "HTTP/1.", MessageStart::kPrefix},
        StartCase{"StatusMinorPrefix", kResp, "HTTP/1.1", MessageStart::kPrefix},
        StartCase{"Status12", kResp, "HTTP/1.2 200 OK\r\n", MessageStart::kNoMatch},
        StartCase{"Status2", kResp, "HTTP/2 200\r\n", MessageStart::kNoMatch},
        StartCase{"RequestOnResponseSide", kResp, "GET / HTTP/1.1\r\n", MessageStart::kNoMatch},
        StartCase{"SseData", kResp, "data: {\"x\":1}\n\n", MessageStart::kNoMatch}),
    [](const ::testing::TestParamInfo<StartCase>& info) { return info.param.name; });

}  // namespace
}  // namespace jamjet::http
