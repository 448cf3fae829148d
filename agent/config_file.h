// The agent's YAML configuration file.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "agent/agent.h"

namespace jamjet {

// Applies the YAML file at `path` to `options`. Top-level keys: outputs (list of sinks),
// log_level, max_body_bytes, ring_buffer_bytes, peer_address (bool), host_scan (bool),
// stats_interval_s, and otlp (a mapping of exporter options). An unknown key or an invalid
// value is an error that names both. `log_level` receives the log_level value, if any.
absl::Status ApplyConfigFile(const std::string& path, AgentOptions& options,
                             std::string& log_level);

}  // namespace jamjet
