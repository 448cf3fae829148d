// Options of the OTLP/HTTP exporter: defaults, the YAML config file, environment variables and
// command-line flags.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace jamjet::otlp {

struct OtlpConfig {
  // Where the spans go.
  std::string endpoint = "https://ingest.jamjet.dev/v1/traces";
  // Bearer token sent as "Authorization: Bearer KEY". JAMJET_API_KEY sets it; else it is read
  // from api_key_file when the sink starts. Never logged.
  std::string api_key;
  std::string api_key_file;
  // PEM bundle of trusted CAs; empty means the system store.
  std::string ca_file;
  bool gzip = true;
  int64_t connect_timeout_ms = 5'000;
  // Limit of one whole HTTP request, from connect to the last response byte.
  int64_t request_timeout_ms = 10'000;
  // A longer response body is cut off and only its status is used.
  int64_t max_response_bytes = 64 * 1024;

  // A batch is sent when it has max_batch_spans spans or max_batch_bytes of encoded spans
  // (before compression), or when its oldest span has waited flush_interval_ms.
  int64_t max_batch_spans = 512;
  int64_t max_batch_bytes = 4 * 1024 * 1024;
  int64_t flush_interval_ms = 5'000;

  // In-memory queue limits. With the disk queue on, spans past these limits stay on disk only.
  int64_t max_queue_spans = 65'536;
  int64_t max_queue_bytes = 64 * 1024 * 1024;

  // Disk queue: an empty state_dir or disk_queue = false keeps spans in memory only.
  bool disk_queue = true;
  std::string state_dir = "/var/lib/jamjet-agent";
  int64_t disk_queue_max_bytes = 512LL * 1024 * 1024;
  int64_t disk_sync_interval_ms = 500;
  int64_t disk_max_age_s = 24 * 3600;

  // Retries: exponential backoff with jitter between initial and max, for at most
  // retry_max_elapsed_s per batch; Retry-After from the server wins when it is longer.
  int64_t retry_initial_backoff_ms = 1'000;
  int64_t retry_max_backoff_ms = 30'000;
  int64_t retry_max_elapsed_s = 300;

  // Prometheus text metrics on 127.0.0.1:metrics_port; 0 turns the endpoint off.
  int64_t metrics_port = 9464;
  // Period of the one-line summary in the log; 0 turns it off.
  int64_t summary_interval_s = 60;
};

// Reads a YAML file whose top-level `otlp:` mapping sets options by key (see OtlpHelpLines).
// Unknown keys and invalid values are errors that name the key and the value.
absl::StatusOr<OtlpConfig> LoadConfig(const std::string& path);

// Parses the same YAML from a string; `origin` names the source in error messages.
absl::StatusOr<OtlpConfig> ParseConfig(const std::string& yaml, const std::string& origin);

// Applies the JAMJET_OTLP_* environment variables (and JAMJET_API_KEY) over `config`.
absl::Status ApplyEnv(OtlpConfig& config);

// Sets one option by its config key ("request_timeout_ms") or flag name
// ("--otlp-request-timeout-ms"); `value` is the text given on the command line.
absl::Status SetOption(OtlpConfig& config, const std::string& key_or_flag,
                       const std::string& value);

// Returns the flag names SetOption accepts, such as "--otlp-endpoint".
std::vector<std::string> OtlpFlagNames();

// Checks ranges and combinations; the error names the bad key and value.
absl::Status ValidateConfig(const OtlpConfig& config);

// Returns one help line per option: flag, environment variable, config key, unit and default.
std::vector<std::string> OtlpHelpLines();

}  // namespace jamjet::otlp
