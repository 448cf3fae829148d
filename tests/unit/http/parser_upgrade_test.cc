// MessageParser when a connection leaves HTTP/1.x: 101 responses, the HTTP/2 preface, CONNECT
// tunnels and upgrade requests.
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "agent/http/parser.h"
#include "tests/unit/http/http_fixtures.h"
#include "tests/unit/http/parser_test_util.h"

namespace jamjet::http {
namespace {

using namespace test_util;

TEST(ParserUpgrade, SwitchingProtocolsIgnoresRest) {
  MessageParser parser(Direction::kResponse);
  std::vector<Message> out = FeedPieces(parser, {
                                                    "HTTP/1.1 101 Switching Protocols\r\n"
                                                    "Upgrade: websocket\r\n"
                                                    "Connection: Upgrade\r\n\r\n\x81\x05hello",
                                                    kOpenAiJsonResponse,
                                                });
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].status_code, 101);
  EXPECT_EQ(parser.stats().protocol_switches, 1u);
  EXPECT_EQ(parser.stats().ignored_bytes, 7u + kOpenAiJsonResponse.size());
  EXPECT_FALSE(parser.synced());
}

TEST(ParserUpgrade, Http2PrefaceIgnoresRest) {
  MessageParser parser(Direction::kRequest);
  std::string_view preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  std::vector<Message> out =
      FeedPieces(parser, {preface.substr(0, 4), preface.substr(4), kCurlGetModels});
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(parser.stats().protocol_switches, 1u);
  EXPECT_EQ(parser.stats().ignored_bytes, preface.size() + kCurlGetModels.size());
}

TEST(ParserUpgrade, ConnectTunnelIgnoresRest) {
  MessageParser parser(Direction::kResponse);
  parser.PushRequestMethod("CONNECT");
  std::vector<Message> out =
      FeedPieces(parser, {"HTTP/1.1 200 Connection established\r\n\r\n", kOpenAiJsonResponse});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].status_code, 200);
  EXPECT_EQ(parser.stats().protocol_switches, 1u);
}

TEST(ParserUpgrade, WebSocketUpgradeRequestResyncs) {
  MessageParser parser(Direction::kRequest);
  std::vector<Message> out = FeedPieces(parser, {
                                                    "GET /realtime HTTP/1.1\r\n"
                                                    "Host: api.openai.com\r\n"
                                                    "Upgrade: websocket\r\n"
                                                    "Connection: Upgrade\r\n"
                                                    "Sec-WebSocket-Version: 13\r\n\r\n",
                                                    "\x81\x85masked",
                                                    kCurlGetModels,
                                                });
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].target, "/realtime");
  EXPECT_EQ(out[1].target, "/v1/models");
  EXPECT_EQ(parser.stats().unsynced_bytes_skipped, 8u);
}

TEST(ParserUpgrade, RequestParserIgnoresPushedMethods) {
  MessageParser parser(Direction::kRequest);
  parser.PushRequestMethod("HEAD");
  std::vector<Message> out = FeedPieces(parser, {kHttpxChatRequest});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].body, kHttpxChatRequestBody);
}

}  // namespace
}  // namespace jamjet::http
