#include "exporter/otlp/config.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <variant>

#include "spdlog/fmt/fmt.h"
#include "yaml-cpp/yaml.h"

namespace jamjet::otlp {
namespace {

using Field = std::variant<std::string OtlpConfig::*, int64_t OtlpConfig::*, bool OtlpConfig::*>;

struct Option {
  const char* key;
  Field field;
  const char* unit;  // shown in help text; empty for strings and booleans
  int64_t min = 0;   // inclusive range of integer options
  int64_t max = 0;
  const char* help;
};

constexpr int64_t kKiB = 1024;
constexpr int64_t kMiB = 1024 * 1024;
constexpr int64_t kMaxInt = int64_t{1} << 50;

// Every option, in help-text order. The upper limits of the batch options are the limits the
// exporter promises: at most 512 spans and 4 MiB per request, a flush at least every 5 s and a
// disk sync at least every 500 ms.
const std::vector<Option>& Options() {
  static const std::vector<Option> kOptions = {
      {"endpoint", &OtlpConfig::endpoint, "", 0, 0, "OTLP/HTTP traces URL (http:// or https://)"},
      {"api_key_file", &OtlpConfig::api_key_file, "", 0, 0,
       "file whose first line is the API key, used when JAMJET_API_KEY is unset"},
      {"ca_file", &OtlpConfig::ca_file, "", 0, 0, "PEM file of trusted CAs (default: system)"},
      {"gzip", &OtlpConfig::gzip, "", 0, 0, "compress request bodies with gzip (true/false)"},
      {"connect_timeout_ms", &OtlpConfig::connect_timeout_ms, "ms", 1, 600'000,
       "timeout of the TCP and TLS connect"},
      {"request_timeout_ms", &OtlpConfig::request_timeout_ms, "ms", 1, 600'000,
       "timeout of one whole request"},
      {"max_response_bytes", &OtlpConfig::max_response_bytes, "bytes", 1, 16 * kMiB,
       "response bytes read at most; the rest is discarded"},
      {"max_batch_spans", &OtlpConfig::max_batch_spans, "spans", 1, 512, "spans per request"},
      {"max_batch_bytes", &OtlpConfig::max_batch_bytes, "bytes", 1 * kKiB, 4 * kMiB,
       "encoded spans per request, before compression"},
      {"flush_interval_ms", &OtlpConfig::flush_interval_ms, "ms", 1, 5'000,
       "longest time a span waits for its batch to fill"},
      {"max_queue_spans", &OtlpConfig::max_queue_spans, "spans", 1, kMaxInt,
       "spans held in memory"},
      {"max_queue_bytes", &OtlpConfig::max_queue_bytes, "bytes", 64 * kKiB, kMaxInt,
       "encoded span bytes held in memory"},
      {"disk_queue", &OtlpConfig::disk_queue, "", 0, 0,
       "keep unsent spans on disk under state_dir (true/false)"},
      {"state_dir", &OtlpConfig::state_dir, "", 0, 0, "directory of the disk queue"},
      {"disk_queue_max_bytes", &OtlpConfig::disk_queue_max_bytes, "bytes", 64 * kKiB, kMaxInt,
       "disk queue size; the oldest spans are dropped past it"},
      {"disk_sync_interval_ms", &OtlpConfig::disk_sync_interval_ms, "ms", 1, 500,
       "period of fsync of the disk queue"},
      {"disk_max_age_s", &OtlpConfig::disk_max_age_s, "s", 1, kMaxInt,
       "queued spans older than this are dropped"},
      {"retry_initial_backoff_ms", &OtlpConfig::retry_initial_backoff_ms, "ms", 1, 3'600'000,
       "first retry delay; it doubles on each retry, with jitter"},
      {"retry_max_backoff_ms", &OtlpConfig::retry_max_backoff_ms, "ms", 1, 3'600'000,
       "largest retry delay"},
      {"retry_max_elapsed_s", &OtlpConfig::retry_max_elapsed_s, "s", 1, kMaxInt,
       "time a batch is retried before it is dropped"},
      {"metrics_port", &OtlpConfig::metrics_port, "port", 0, 65535,
       "Prometheus metrics port on 127.0.0.1 (0: off)"},
      {"summary_interval_s", &OtlpConfig::summary_interval_s, "s", 0, kMaxInt,
       "period of the one-line summary in the log (0: off)"},
  };
  return kOptions;
}

std::string FlagName(const std::string& key) {
  std::string flag = "--otlp-" + key;
  for (char& c : flag) {
    if (c == '_') c = '-';
  }
  return flag;
}

std::string EnvName(const std::string& key) {
  std::string name = "JAMJET_OTLP_" + key;
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

const Option* FindOption(const std::string& key_or_flag) {
  for (const Option& option : Options()) {
    if (key_or_flag == option.key || key_or_flag == FlagName(option.key)) return &option;
  }
  return nullptr;
}

absl::Status InvalidValue(const Option& option, const std::string& value, const char* expected) {
  return absl::InvalidArgumentError(fmt::format(
      "invalid value \"{}\" for otlp option {}: expected {}", value, option.key, expected));
}

absl::Status ParseInto(OtlpConfig& config, const Option& option, const std::string& value) {
  if (auto* member = std::get_if<std::string OtlpConfig::*>(&option.field)) {
    config.*(*member) = value;
    return absl::OkStatus();
  }
  if (auto* member = std::get_if<bool OtlpConfig::*>(&option.field)) {
    if (value == "true" || value == "1" || value == "yes") {
      config.*(*member) = true;
    } else if (value == "false" || value == "0" || value == "no") {
      config.*(*member) = false;
    } else {
      return InvalidValue(option, value, "true or false");
    }
    return absl::OkStatus();
  }
  auto member = std::get<int64_t OtlpConfig::*>(option.field);
  char* end = nullptr;
  errno = 0;
  long long parsed = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || errno == ERANGE) {
    return InvalidValue(option, value, fmt::format("a whole number of {}", option.unit).c_str());
  }
  config.*member = parsed;
  return absl::OkStatus();
}

}  // namespace

absl::Status SetOption(OtlpConfig& config, const std::string& key_or_flag,
                       const std::string& value) {
  const Option* option = FindOption(key_or_flag);
  if (option == nullptr) {
    return absl::InvalidArgumentError(fmt::format(
        "unknown otlp option \"{}\": jamjet-agent --help lists the options", key_or_flag));
  }
  return ParseInto(config, *option, value);
}

std::vector<std::string> OtlpFlagNames() {
  std::vector<std::string> names;
  for (const Option& option : Options()) names.push_back(FlagName(option.key));
  return names;
}

absl::StatusOr<OtlpConfig> ParseConfig(const std::string& yaml, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& error) {
    return absl::InvalidArgumentError(fmt::format("{}: invalid YAML: {}", origin, error.what()));
  }
  OtlpConfig config;
  YAML::Node section = root.IsMap() ? root["otlp"] : YAML::Node();
  if (!section) return config;
  if (!section.IsMap()) {
    return absl::InvalidArgumentError(fmt::format("{}: otlp must be a mapping of options", origin));
  }
  for (const auto& entry : section) {
    std::string key = entry.first.as<std::string>();
    if (!entry.second.IsScalar()) {
      return absl::InvalidArgumentError(
          fmt::format("{}: otlp option {} must be a single value", origin, key));
    }
    absl::Status status = SetOption(config, key, entry.second.as<std::string>());
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("{}: {}", origin, std::string(status.message())));
    }
  }
  return config;
}

absl::StatusOr<OtlpConfig> LoadConfig(const std::string& path) {
  std::ifstream file(path);
  if (!file)
    return absl::NotFoundError(
        fmt::format("reading config file {} failed: {}", path, std::strerror(errno)));
  std::stringstream text;
  text << file.rdbuf();
  return ParseConfig(text.str(), path);
}

absl::Status ApplyEnv(OtlpConfig& config) {
  if (const char* key = std::getenv("JAMJET_API_KEY"); key != nullptr && *key != '\0') {
    config.api_key = key;
  }
  for (const Option& option : Options()) {
    std::string name = EnvName(option.key);
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) continue;
    absl::Status status = ParseInto(config, option, value);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("environment variable {}: {}", name, std::string(status.message())));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateConfig(const OtlpConfig& config) {
  for (const Option& option : Options()) {
    auto* member = std::get_if<int64_t OtlpConfig::*>(&option.field);
    if (member == nullptr) continue;
    int64_t value = config.*(*member);
    if (value < option.min || value > option.max) {
      return absl::InvalidArgumentError(
          fmt::format("invalid value {} for otlp option {}: expected {} to {} {}", value,
                      option.key, option.min, option.max, option.unit));
    }
  }
  if (!config.endpoint.starts_with("http://") && !config.endpoint.starts_with("https://")) {
    return absl::InvalidArgumentError(fmt::format(
        "invalid value \"{}\" for otlp option endpoint: expected an http:// or https:// URL",
        config.endpoint));
  }
  if (config.retry_max_backoff_ms < config.retry_initial_backoff_ms) {
    return absl::InvalidArgumentError(
        fmt::format("invalid value {} for otlp option retry_max_backoff_ms: it must be at least "
                    "retry_initial_backoff_ms ({})",
                    config.retry_max_backoff_ms, config.retry_initial_backoff_ms));
  }
  return absl::OkStatus();
}

std::vector<std::string> OtlpHelpLines() {
  OtlpConfig defaults;
  std::vector<std::string> lines;
  for (const Option& option : Options()) {
    std::string default_text =
        std::visit([&](auto member) { return fmt::format("{}", defaults.*member); }, option.field);
    std::string unit = *option.unit == '\0' ? "" : fmt::format(" ({})", option.unit);
    lines.push_back(fmt::format(
        "{}=VALUE  {}{}; default {}; env {}; config otlp.{}", FlagName(option.key), option.help,
        unit, default_text.empty() ? "\"\"" : default_text, EnvName(option.key), option.key));
  }
  lines.push_back(
      "JAMJET_API_KEY  API key sent as \"Authorization: Bearer KEY\"; wins over api_key_file");
  return lines;
}

}  // namespace jamjet::otlp
