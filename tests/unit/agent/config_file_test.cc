// The agent's YAML config file applied to AgentOptions.
#include "agent/config_file.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/agent/temp_dir.h"

namespace jamjet {
namespace {

using testing::TempDir;

struct Loaded {
  absl::Status status;
  AgentOptions options;
  std::string log_level;
};

Loaded Load(const std::string& yaml) {
  TempDir dir;
  std::string path = dir.WriteFile("agent.yaml", yaml);
  Loaded loaded;
  loaded.status = ApplyConfigFile(path, loaded.options, loaded.log_level);
  return loaded;
}

TEST(ConfigFileTest, AppliesEveryKey) {
  Loaded loaded = Load(R"(
outputs: [stdout, "file:/var/log/jamjet/spans.jsonl", otlp]
log_level: debug
max_body_bytes: 2048
ring_buffer_bytes: 131072
peer_address: false
host_scan: false
stats_interval_s: 30
otlp:
  endpoint: http://127.0.0.1:4318/v1/traces
  gzip: false
  request_timeout_ms: 2500
)");

  ASSERT_TRUE(loaded.status.ok()) << loaded.status;
  const AgentOptions& options = loaded.options;
  ASSERT_EQ(options.outputs.size(), 3u);
  EXPECT_EQ(options.outputs[0], "stdout");
  EXPECT_EQ(options.outputs[1], "file:/var/log/jamjet/spans.jsonl");
  EXPECT_EQ(options.outputs[2], "otlp");
  EXPECT_EQ(loaded.log_level, "debug");
  EXPECT_EQ(options.tracker.parser_limits.max_body_bytes, 2048u);
  EXPECT_EQ(options.tracer.ring_buffer_bytes, 131072u);
  EXPECT_FALSE(options.tracer.capture_peer);
  EXPECT_FALSE(options.scan_host_directories);
  EXPECT_EQ(options.stats_interval_seconds, 30);
  EXPECT_EQ(options.otlp.endpoint, "http://127.0.0.1:4318/v1/traces");
  EXPECT_FALSE(options.otlp.gzip);
  EXPECT_EQ(options.otlp.request_timeout_ms, 2500);
}

TEST(ConfigFileTest, EmptyFileKeepsDefaults) {
  Loaded loaded = Load("");

  ASSERT_TRUE(loaded.status.ok()) << loaded.status;
  AgentOptions defaults;
  EXPECT_TRUE(loaded.options.outputs.empty());
  EXPECT_EQ(loaded.options.tracker.parser_limits.max_body_bytes,
            defaults.tracker.parser_limits.max_body_bytes);
  EXPECT_EQ(loaded.options.otlp.endpoint, defaults.otlp.endpoint);
  EXPECT_EQ(loaded.log_level, "");
}

TEST(ConfigFileTest, UnknownKeyNamed) {
  Loaded loaded = Load("outputs: [stdout]\nmax_bodybytes: 2048\n");

  EXPECT_EQ(loaded.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(loaded.status.message()).find("\"max_bodybytes\""), std::string::npos)
      << loaded.status;
}

TEST(ConfigFileTest, UnknownOtlpKeyNamed) {
  Loaded loaded = Load("otlp:\n  endpont: http://127.0.0.1:4318\n");

  EXPECT_FALSE(loaded.status.ok());
  EXPECT_NE(std::string(loaded.status.message()).find("endpont"), std::string::npos)
      << loaded.status;
}

struct BadValueCase {
  const char* name;
  const char* yaml;
  const char* key;    // must appear in the message
  const char* value;  // must appear in the message
};

void PrintTo(const BadValueCase& bad_case, std::ostream* out) { *out << bad_case.name; }

class ConfigBadValueTest : public ::testing::TestWithParam<BadValueCase> {};

TEST_P(ConfigBadValueTest, NamesKeyAndValue) {
  Loaded loaded = Load(GetParam().yaml);

  ASSERT_FALSE(loaded.status.ok());
  EXPECT_EQ(loaded.status.code(), absl::StatusCode::kInvalidArgument);
  std::string message(loaded.status.message());
  EXPECT_NE(message.find(GetParam().key), std::string::npos) << message;
  EXPECT_NE(message.find(GetParam().value), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Values, ConfigBadValueTest,
    ::testing::Values(
        BadValueCase{"BodyBytesTooSmall", "max_body_bytes: 10\n", "max_body_bytes", "\"10\""},
        BadValueCase{"BodyBytesTooLarge", "max_body_bytes: 2147483648\n", "max_body_bytes",
                     "\"2147483648\""},
        BadValueCase{"BodyBytesNegative", "max_body_bytes: -5\n", "max_body_bytes", "\"-5\""},
        BadValueCase{"BodyBytesText", "max_body_bytes: lots\n", "max_body_bytes", "\"lots\""},
        BadValueCase{"BodyBytesList", "max_body_bytes: [1, 2]\n", "max_body_bytes",
                     "not a single value"},
        BadValueCase{"RingNotPowerOfTwo", "ring_buffer_bytes: 100000\n", "ring_buffer_bytes",
                     "\"100000\""},
        BadValueCase{"RingTooSmall", "ring_buffer_bytes: 4096\n", "ring_buffer_bytes", "\"4096\""},
        BadValueCase{"PeerAddressNotBool", "peer_address: maybe\n", "peer_address", "\"maybe\""},
        BadValueCase{"HostScanNotBool", "host_scan: 2\n", "host_scan", "\"2\""},
        BadValueCase{"StatsIntervalTooLarge", "stats_interval_s: 90000\n", "stats_interval_s",
                     "\"90000\""},
        BadValueCase{"OutputsNotList", "outputs: stdout\n", "outputs", "\"stdout\""},
        BadValueCase{"OutputItemNotScalar", "outputs: [[stdout]]\n", "outputs",
                     "not a single value"},
        BadValueCase{"LogLevelNotScalar", "log_level: {a: b}\n", "log_level", "not a single value"},
        // Ranges of otlp values are checked later, by ValidateConfig when the sink starts.
        BadValueCase{"OtlpTimeoutText", "otlp:\n  request_timeout_ms: soon\n", "request_timeout_ms",
                     "soon"}),
    [](const ::testing::TestParamInfo<BadValueCase>& info) { return info.param.name; });

TEST(ConfigFileTest, MissingFileNotFound) {
  AgentOptions options;
  std::string log_level;
  absl::Status status = ApplyConfigFile("/nonexistent/jamjet/agent.yaml", options, log_level);

  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(std::string(status.message()).find("/nonexistent/jamjet/agent.yaml"),
            std::string::npos);
}

TEST(ConfigFileTest, InvalidYamlRejected) {
  Loaded loaded = Load("outputs: [stdout\n");

  EXPECT_EQ(loaded.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(loaded.status.message()).find("invalid YAML"), std::string::npos)
      << loaded.status;
}

TEST(ConfigFileTest, TopLevelListRejected) {
  Loaded loaded = Load("- stdout\n- otlp\n");

  EXPECT_EQ(loaded.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(loaded.status.message()).find("mapping"), std::string::npos)
      << loaded.status;
}

}  // namespace
}  // namespace jamjet
