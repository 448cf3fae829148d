#include "exporter/otlp/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

namespace jamjet::otlp {
namespace {

std::string Message(const absl::Status& status) { return std::string(status.message()); }

TEST(ConfigTest, DefaultsAreValid) {
  OtlpConfig config;
  EXPECT_TRUE(ValidateConfig(config).ok());
  EXPECT_EQ(config.max_batch_spans, 512);
  EXPECT_EQ(config.max_batch_bytes, 4 * 1024 * 1024);
  EXPECT_EQ(config.flush_interval_ms, 5000);
  EXPECT_EQ(config.disk_queue_max_bytes, 512LL * 1024 * 1024);
  EXPECT_EQ(config.state_dir, "/var/lib/jamjet-agent");
  EXPECT_TRUE(config.gzip);
}

TEST(ConfigTest, ParsesYaml) {
  absl::StatusOr<OtlpConfig> config = ParseConfig(
      "otlp:\n  endpoint: http://127.0.0.1:4318/v1/traces\n  gzip: false\n"
      "  max_batch_spans: 100\n  state_dir: /tmp/q\n",
      "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->endpoint, "http://127.0.0.1:4318/v1/traces");
  EXPECT_FALSE(config->gzip);
  EXPECT_EQ(config->max_batch_spans, 100);
  EXPECT_EQ(config->state_dir, "/tmp/q");
}

TEST(ConfigTest, UnknownKeyIsNamed) {
  absl::StatusOr<OtlpConfig> config = ParseConfig("otlp:\n  endpont: x\n", "test.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(Message(config.status()).find("endpont"), std::string::npos);
  EXPECT_NE(Message(config.status()).find("test.yaml"), std::string::npos);
}

TEST(ConfigTest, BadValueNamesKeyAndValue) {
  absl::StatusOr<OtlpConfig> config = ParseConfig("otlp:\n  request_timeout_ms: 10s\n", "c");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(Message(config.status()).find("request_timeout_ms"), std::string::npos);
  EXPECT_NE(Message(config.status()).find("\"10s\""), std::string::npos);
}

TEST(ConfigTest, OutOfRangeNamesKeyAndValue) {
  OtlpConfig config;
  config.max_batch_spans = 600;
  absl::Status status = ValidateConfig(config);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(Message(status).find("max_batch_spans"), std::string::npos);
  EXPECT_NE(Message(status).find("600"), std::string::npos);
}

TEST(ConfigTest, EndpointMustBeHttp) {
  OtlpConfig config;
  config.endpoint = "ftp://example/v1/traces";
  absl::Status status = ValidateConfig(config);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(Message(status).find("ftp://example/v1/traces"), std::string::npos);
}

TEST(ConfigTest, EnvironmentOverridesFile) {
  setenv("JAMJET_OTLP_MAX_BATCH_SPANS", "64", 1);
  setenv("JAMJET_API_KEY", "secret-key", 1);
  OtlpConfig config;
  absl::Status status = ApplyEnv(config);
  unsetenv("JAMJET_OTLP_MAX_BATCH_SPANS");
  unsetenv("JAMJET_API_KEY");
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(config.max_batch_spans, 64);
  EXPECT_EQ(config.api_key, "secret-key");
}

TEST(ConfigTest, InvalidEnvironmentValueIsNamed) {
  setenv("JAMJET_OTLP_GZIP", "maybe", 1);
  OtlpConfig config;
  absl::Status status = ApplyEnv(config);
  unsetenv("JAMJET_OTLP_GZIP");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(Message(status).find("JAMJET_OTLP_GZIP"), std::string::npos);
  EXPECT_NE(Message(status).find("maybe"), std::string::npos);
}

TEST(ConfigTest, FlagsSetOptions) {
  OtlpConfig config;
  ASSERT_TRUE(SetOption(config, "--otlp-flush-interval-ms", "250").ok());
  EXPECT_EQ(config.flush_interval_ms, 250);
  EXPECT_FALSE(SetOption(config, "--otlp-nope", "1").ok());
}

TEST(ConfigTest, LoadConfigReportsMissingFile) {
  absl::StatusOr<OtlpConfig> config = LoadConfig("/nonexistent/otlp.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(Message(config.status()).find("/nonexistent/otlp.yaml"), std::string::npos);
}

TEST(ConfigTest, HelpCoversEveryFlag) {
  std::vector<std::string> lines = OtlpHelpLines();
  for (const std::string& flag : OtlpFlagNames()) {
    bool found = false;
    for (const std::string& line : lines) found = found || line.starts_with(flag + "=");
    EXPECT_TRUE(found) << flag;
  }
  EXPECT_GE(lines.size(), OtlpFlagNames().size());
}

}  // namespace
}  // namespace jamjet::otlp
