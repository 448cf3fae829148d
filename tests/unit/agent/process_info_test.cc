// Process resource attributes read from a fake /proc tree, and command-line redaction.
#include "agent/process_info.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "tests/unit/agent/temp_dir.h"

namespace jamjet {
namespace {

using testing::TempDir;

constexpr char kContainerId[] = "3f4e2a1b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f607";

std::string StringAttribute(const Attributes& attributes, const std::string& key) {
  const AttributeValue* value = FindAttribute(attributes, key);
  if (value == nullptr || !std::holds_alternative<std::string>(*value)) return "<missing>";
  return std::get<std::string>(*value);
}

TEST(ProcessResourceTest, ReadsFakeProcTree) {
  TempDir proc;
  // cmdline separates arguments with NULs and ends with one.
  proc.WriteFile("1234/cmdline", std::string("python3\0app.py\0--api-key\0sk-live-123\0", 37));
  proc.WriteFile("1234/environ",
                 std::string("PATH=/usr/bin\0OTEL_SERVICE_NAME=checkout\0HOME=/root\0", 52));
  proc.WriteFile("1234/cgroup",
                 std::string("0::/system.slice/docker-") + kContainerId + ".scope\n");

  Attributes resource = ReadProcessResource(proc.path(), 1234, "python3");

  const AttributeValue* pid = FindAttribute(resource, "process.pid");
  ASSERT_NE(pid, nullptr);
  EXPECT_EQ(std::get<int64_t>(*pid), 1234);
  EXPECT_EQ(StringAttribute(resource, "process.executable.name"), "python3");
  EXPECT_EQ(StringAttribute(resource, "process.command_line"),
            "python3 app.py --api-key [REDACTED]");
  EXPECT_EQ(StringAttribute(resource, "service.name"), "checkout");
  EXPECT_EQ(StringAttribute(resource, "container.id"), kContainerId);
  // The owner of the fake tree is the test user, reported by name or else by uid.
  EXPECT_NE(StringAttribute(resource, "process.owner"), "<missing>");
}

TEST(ProcessResourceTest, ExitedProcessFallsBackToComm) {
  TempDir proc;
  Attributes resource = ReadProcessResource(proc.path(), 999, "node");

  EXPECT_EQ(StringAttribute(resource, "process.executable.name"), "node");
  EXPECT_EQ(StringAttribute(resource, "service.name"), "node");
  EXPECT_EQ(FindAttribute(resource, "process.command_line"), nullptr);
  EXPECT_EQ(FindAttribute(resource, "container.id"), nullptr);
  EXPECT_EQ(FindAttribute(resource, "process.owner"), nullptr);
}

TEST(ProcessResourceTest, IgnoresShortHexRunsAndSimilarVariables) {
  TempDir proc;
  proc.WriteFile("77/cmdline", std::string("node\0server.js\0", 15));
  // A 63-digit run and a 65-digit run are not container ids.
  proc.WriteFile("77/cgroup",
                 "0::/user.slice/" + std::string(63, 'a') + "/" + std::string(65, 'b') + "\n");
  proc.WriteFile("77/environ", std::string("MY_OTEL_SERVICE_NAME=wrong\0", 27));

  Attributes resource = ReadProcessResource(proc.path(), 77, "node");

  EXPECT_EQ(FindAttribute(resource, "container.id"), nullptr);
  EXPECT_EQ(StringAttribute(resource, "service.name"), "node");
  EXPECT_EQ(StringAttribute(resource, "process.command_line"), "node server.js");
}

struct RedactCase {
  const char* name;
  const char* command_line;  // as ReadProcessResource builds it: arguments joined by spaces
  const char* expected;
};

void PrintTo(const RedactCase& redact_case, std::ostream* out) { *out << redact_case.name; }

class RedactCommandLineTest : public ::testing::TestWithParam<RedactCase> {};

TEST_P(RedactCommandLineTest, Redacts) {
  EXPECT_EQ(RedactCommandLine(GetParam().command_line), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RedactCommandLineTest,
    ::testing::Values(
        RedactCase{"CurlBearerSkKey",
                   "curl -H Authorization: Bearer sk-proj-abc123 https://api.openai.com/v1/models",
                   "curl -H [REDACTED] [REDACTED] [REDACTED] "
                   "https://api.openai.com/v1/models"},
        RedactCase{"XApiKeyHeader", "curl -H x-api-key: sk-ant-api03-xyz https://api.anthropic.com",
                   "curl -H [REDACTED] [REDACTED] https://api.anthropic.com"},
        RedactCase{"XApiKeyHeaderNoSpace", "curl -H x-api-key:abc123 https://h",
                   "curl -H [REDACTED] https://h"},
        RedactCase{"ApiKeyEquals", "agent --api-key=V1a2b3 --verbose",
                   "agent [REDACTED] --verbose"},
        RedactCase{"TokenSeparate", "tool --token V1a2b3 run", "tool --token [REDACTED] run"},
        RedactCase{"PasswordEquals", "psql --password=hunter2 db", "psql [REDACTED] db"},
        RedactCase{"EnvStyleSecret", "env OPENAI_API_KEY=abc python3 app.py",
                   "env [REDACTED] python3 app.py"},
        RedactCase{"UrlKeyParameter",
                   "curl https://generativelanguage.googleapis.com/v1/models?key=AIzaSyXYZ",
                   "curl https://generativelanguage.googleapis.com/v1/models?[REDACTED]"},
        RedactCase{"BareSkKey", "python3 app.py sk-abcdef", "python3 app.py [REDACTED]"},
        RedactCase{"StripeStyleKey", "node pay.js sk_live_123", "node pay.js [REDACTED]"},
        RedactCase{"NothingSecret", "python3 -m http.server 8000 --bind 127.0.0.1",
                   "python3 -m http.server 8000 --bind 127.0.0.1"},
        RedactCase{"UrlSecondParameter", "curl https://h/p?alt=sse&api_key=abc",
                   "curl https://h/p?alt=sse&[REDACTED]"},
        RedactCase{"CookieHeader", "curl -H Cookie: session=abc https://h",
                   "curl -H [REDACTED] [REDACTED] https://h"},
        RedactCase{"Empty", "", ""}),
    [](const ::testing::TestParamInfo<RedactCase>& info) { return info.param.name; });

// A Bearer token of any form is redacted, with or without a space after "Authorization:",
// while an option such as "--max-tokens", whose name only contains "token", is kept.
TEST(RedactCommandLineGapsTest, BearerTokenAndMaxTokens) {
  std::string bearer = RedactCommandLine(
      "curl -H Authorization: Bearer ghp_16C7e42F292c6912E7710c838347Ae178B4a "
      "https://api.github.com/user");
  EXPECT_EQ(bearer.find("ghp_16C7e42F292c6912E7710c838347Ae178B4a"), std::string::npos) << bearer;
  std::string no_space = RedactCommandLine("curl -H Authorization:Bearer xyz123 https://h");
  EXPECT_EQ(no_space.find("xyz123"), std::string::npos) << no_space;

  std::string options = "python3 chat.py --model gpt-4o --max-tokens 100";
  EXPECT_EQ(RedactCommandLine(options), options);
}

}  // namespace
}  // namespace jamjet
