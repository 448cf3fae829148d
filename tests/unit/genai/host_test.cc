// Parsing of Host header values.
#include "agent/genai/host.h"

#include <gtest/gtest.h>

namespace jamjet::genai {
namespace {

struct HostCase {
  const char* value;
  std::optional<std::string> address;
  std::optional<uint16_t> port;
};

TEST(ParseHost, Cases) {
  const HostCase kCases[] = {
      {"api.openai.com", "api.openai.com", 443},
      {"api.openai.com:8443", "api.openai.com", 8443},
      {"  api.openai.com  ", "api.openai.com", 443},
      {"api.openai.com:", "api.openai.com", 443},
      {"10.0.0.5:80", "10.0.0.5", 80},
      {"[::1]", "::1", 443},
      {"[2001:db8::7]:8443", "2001:db8::7", 8443},
      {"[2001:db8::7]:", "2001:db8::7", 443},
      {"[2001:db8::7]x", "2001:db8::7", std::nullopt},
      {"2001:db8::7", "2001:db8::7", 443},
      {"host:99999", "host", std::nullopt},
      {"host:0", "host", std::nullopt},
      {"host:12ab", "host", std::nullopt},
      {"host:-1", "host", std::nullopt},
      {"", std::nullopt, std::nullopt},
      {":443", std::nullopt, std::nullopt},
      {"[]:443", std::nullopt, std::nullopt},
      {"[::1", std::nullopt, std::nullopt},
  };
  for (const HostCase& test : kCases) {
    SCOPED_TRACE(test.value);
    std::optional<HostPort> parsed = ParseHost(test.value, 443);
    ASSERT_EQ(parsed.has_value(), test.address.has_value());
    if (!parsed.has_value()) continue;
    EXPECT_EQ(parsed->address, *test.address);
    EXPECT_EQ(parsed->port, test.port);
  }
}

}  // namespace
}  // namespace jamjet::genai
