#include "agent/config_file.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "spdlog/fmt/fmt.h"

namespace jamjet {
namespace {

absl::Status InvalidValue(const std::string& path, const std::string& key, const YAML::Node& node,
                          const std::string& expected) {
  std::string value = node.IsScalar() ? node.Scalar() : "(not a single value)";
  return absl::InvalidArgumentError(
      fmt::format("{}: invalid value \"{}\" for {}: expected {}", path, value, key, expected));
}

template <typename T>
bool Convert(const YAML::Node& node, T& value) {
  if (!node.IsScalar()) return false;
  return YAML::convert<T>::decode(node, value);
}

absl::Status ApplyKey(const std::string& path, const std::string& key, const YAML::Node& node,
                      AgentOptions& options, std::string& log_level) {
  uint64_t number = 0;
  bool flag = false;
  if (key == "outputs") {
    if (!node.IsSequence()) return InvalidValue(path, key, node, "a list such as [stdout, otlp]");
    options.outputs.clear();
    for (const YAML::Node& item : node) {
      if (!item.IsScalar()) return InvalidValue(path, key, item, "stdout, file:PATH or otlp");
      options.outputs.push_back(item.Scalar());
    }
  } else if (key == "log_level") {
    if (!node.IsScalar()) return InvalidValue(path, key, node, "trace, debug, info, warn or error");
    log_level = node.Scalar();
  } else if (key == "max_body_bytes") {
    if (!Convert(node, number) || number < 1024 || number > (1ULL << 30)) {
      return InvalidValue(path, key, node, "bytes from 1024 to 1073741824");
    }
    options.tracker.parser_limits.max_body_bytes = number;
  } else if (key == "ring_buffer_bytes") {
    if (!Convert(node, number) || number < (1 << 16) || number > (1ULL << 30) ||
        (number & (number - 1)) != 0) {
      return InvalidValue(path, key, node, "a power of two from 65536 to 1073741824");
    }
    options.tracer.ring_buffer_bytes = static_cast<uint32_t>(number);
  } else if (key == "peer_address") {
    if (!Convert(node, flag)) return InvalidValue(path, key, node, "true or false");
    options.tracer.capture_peer = flag;
  } else if (key == "host_scan") {
    if (!Convert(node, flag)) return InvalidValue(path, key, node, "true or false");
    options.scan_host_directories = flag;
  } else if (key == "stats_interval_s") {
    if (!Convert(node, number) || number > 86400) {
      return InvalidValue(path, key, node, "seconds from 0 to 86400");
    }
    options.stats_interval_seconds = static_cast<int>(number);
  } else if (key != "otlp") {
    return absl::InvalidArgumentError(
        fmt::format("{}: unknown key \"{}\"; jamjet-agent --help lists the options", path, key));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyConfigFile(const std::string& path, AgentOptions& options,
                             std::string& log_level) {
  std::ifstream file(path);
  if (!file) {
    return absl::NotFoundError(fmt::format("reading config file {} failed", path));
  }
  std::stringstream text;
  text << file.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& error) {
    // yaml-cpp reports syntax errors only by exception; nothing else here throws.
    return absl::InvalidArgumentError(fmt::format("{}: invalid YAML: {}", path, error.what()));
  }
  if (root.IsNull()) return absl::OkStatus();
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(fmt::format("{}: expected a mapping of options", path));
  }
  for (const auto& entry : root) {
    std::string key = entry.first.as<std::string>("");
    absl::Status status = ApplyKey(path, key, entry.second, options, log_level);
    if (!status.ok()) return status;
  }
  absl::StatusOr<otlp::OtlpConfig> otlp_config = otlp::ParseConfig(text.str(), path);
  if (!otlp_config.ok()) return otlp_config.status();
  options.otlp = *otlp_config;
  return absl::OkStatus();
}

}  // namespace jamjet
