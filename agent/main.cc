// jamjet-agent: reports every LLM API call made over OpenSSL on this host as a span.
#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "agent/agent.h"
#include "agent/config_file.h"
#include "exporter/otlp/config.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace {

std::atomic<bool> stop_requested{false};

void RequestStop(int) { stop_requested.store(true); }

constexpr const char kUsage[] = R"(Usage: jamjet-agent [OPTION]...
Reports every LLM API call made over OpenSSL on this host as one span. Run as root.

Options:
  --config PATH           YAML configuration file. Its keys are the long option names
                          below with "_" for "-" (outputs is a list, otlp a mapping of the
                          --otlp-* options without the prefix). Flags override the file.
  --output SINK           where spans go: "stdout" (one JSON object per line),
                          "file:PATH" (the same lines appended to PATH) or "otlp"
                          (OTLP/HTTP, see --otlp-*); repeat to use several sinks.
                          Default: stdout.
  --log-level LEVEL       trace, debug, info, warn, error or off. Default: info.
                          Logs always go to stderr.
  --ready-file PATH       create PATH, holding the agent's pid, once probes are attached.
  --max-body-bytes N      bytes of each HTTP body kept for parsing, after decoding; a
                          longer body is cut and the span says so. Default: 8388608 (8 MiB).
  --ring-buffer-bytes N   size of the BPF ring buffer in bytes, a power of two.
                          Default: 67108864 (64 MiB).
  --no-peer-address       do not trace socket system calls; spans then carry no
                          network.peer.address and network.peer.port.
  --no-host-scan          at start, probe only binaries mapped by running processes, not
                          the host's library and binary directories.
  --stats-interval SECS   seconds between summary log lines; 0 turns them off. Default: 60.
  --consumer-delay-ms MS  test aid: sleep MS milliseconds before each read of the ring
                          buffer, so the agent lags behind the traced processes. Default: 0.
  --help                  print this help and exit.
  --version               print the version and exit.
)";

enum OptionId {
  kConfig = 1000,
  kOutput,
  kLogLevel,
  kReadyFile,
  kMaxBodyBytes,
  kRingBufferBytes,
  kNoPeerAddress,
  kNoHostScan,
  kStatsInterval,
  kConsumerDelay,
  kHelp,
  kVersion,
  kOtlpOption,  // every --otlp-* option; the option name identifies which
};

bool ParseUnsigned(const char* text, uint64_t min, uint64_t max, uint64_t& value) {
  std::string_view digits(text);
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return error == std::errc() && end == digits.data() + digits.size() && value >= min &&
         value <= max;
}

// Returns an error message naming what is missing when this process cannot use BPF.
std::string CheckPrivileges() {
  if (geteuid() == 0) return "";
  std::ifstream status("/proc/self/status");
  std::string line;
  uint64_t effective = 0;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) == 0) effective = std::strtoull(line.c_str() + 7, nullptr, 16);
  }
  constexpr uint64_t kCapSysAdmin = 1ULL << 21;
  constexpr uint64_t kCapPerfmon = 1ULL << 38;
  constexpr uint64_t kCapBpf = 1ULL << 39;
  if ((effective & kCapSysAdmin) != 0) return "";
  if ((effective & kCapBpf) != 0 && (effective & kCapPerfmon) != 0) return "";
  return "jamjet-agent must run as root, or with CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN): "
         "it loads BPF programs and attaches uprobes";
}

}  // namespace

// Returns the value of --config, which must be read before the other flags override it.
std::string FindConfigPath(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view argument(argv[i]);
    if (argument == "--config" && i + 1 < argc) return argv[i + 1];
    if (argument.starts_with("--config=")) return std::string(argument.substr(9));
  }
  return "";
}

bool SetLogLevel(const std::string& name) {
  spdlog::level::level_enum level = spdlog::level::from_str(name);
  if (level == spdlog::level::off && name != "off") return false;
  spdlog::set_level(level);
  return true;
}

int main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("jamjet"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  jamjet::AgentOptions options;
  if (std::string config = FindConfigPath(argc, argv); !config.empty()) {
    std::string log_level;
    absl::Status status = jamjet::ApplyConfigFile(config, options, log_level);
    if (!status.ok()) {
      fprintf(stderr, "jamjet-agent: %s\n", std::string(status.message()).c_str());
      return 2;
    }
    if (!log_level.empty() && !SetLogLevel(log_level)) {
      fprintf(stderr, "jamjet-agent: %s: invalid log_level \"%s\"\n", config.c_str(),
              log_level.c_str());
      return 2;
    }
  }
  if (absl::Status status = jamjet::otlp::ApplyEnv(options.otlp); !status.ok()) {
    fprintf(stderr, "jamjet-agent: %s\n", std::string(status.message()).c_str());
    return 2;
  }
  bool outputs_from_flags = false;

  static const option kFixedOptions[] = {
      {"config", required_argument, nullptr, kConfig},
      {"output", required_argument, nullptr, kOutput},
      {"log-level", required_argument, nullptr, kLogLevel},
      {"ready-file", required_argument, nullptr, kReadyFile},
      {"max-body-bytes", required_argument, nullptr, kMaxBodyBytes},
      {"ring-buffer-bytes", required_argument, nullptr, kRingBufferBytes},
      {"no-peer-address", no_argument, nullptr, kNoPeerAddress},
      {"no-host-scan", no_argument, nullptr, kNoHostScan},
      {"stats-interval", required_argument, nullptr, kStatsInterval},
      {"consumer-delay-ms", required_argument, nullptr, kConsumerDelay},
      {"help", no_argument, nullptr, kHelp},
      {"version", no_argument, nullptr, kVersion},
  };
  // getopt keeps pointers to the names, so they live as long as main.
  std::vector<std::string> otlp_names;
  for (const std::string& flag : jamjet::otlp::OtlpFlagNames())
    otlp_names.push_back(flag.substr(2));
  std::vector<option> long_options(std::begin(kFixedOptions), std::end(kFixedOptions));
  for (const std::string& name : otlp_names) {
    long_options.push_back({name.c_str(), required_argument, nullptr, kOtlpOption});
  }
  long_options.push_back({nullptr, 0, nullptr, 0});
  int id;
  int index = 0;
  uint64_t number = 0;
  while ((id = getopt_long(argc, argv, "", long_options.data(), &index)) != -1) {
    switch (id) {
      case kConfig:
        break;  // read before the other flags
      case kOutput:
        // Flags replace the outputs of the config file rather than adding to them.
        if (!outputs_from_flags) options.outputs.clear();
        outputs_from_flags = true;
        options.outputs.push_back(optarg);
        break;
      case kLogLevel:
        if (!SetLogLevel(optarg)) {
          fprintf(stderr, "jamjet-agent: invalid --log-level \"%s\"\n", optarg);
          return 2;
        }
        break;
      case kOtlpOption: {
        std::string flag = std::string("--") + long_options[index].name;
        if (absl::Status status = jamjet::otlp::SetOption(options.otlp, flag, optarg);
            !status.ok()) {
          fprintf(stderr, "jamjet-agent: %s\n", std::string(status.message()).c_str());
          return 2;
        }
        break;
      }
      case kReadyFile:
        options.ready_file = optarg;
        break;
      case kMaxBodyBytes:
        if (!ParseUnsigned(optarg, 1024, 1ULL << 30, number)) {
          fprintf(stderr, "jamjet-agent: invalid --max-body-bytes \"%s\": expected 1024 to %llu\n",
                  optarg, 1ULL << 30);
          return 2;
        }
        options.tracker.parser_limits.max_body_bytes = number;
        break;
      case kRingBufferBytes:
        if (!ParseUnsigned(optarg, 1 << 16, 1ULL << 30, number) || (number & (number - 1)) != 0) {
          fprintf(stderr,
                  "jamjet-agent: invalid --ring-buffer-bytes \"%s\": expected a power of two "
                  "from 65536 to 1073741824\n",
                  optarg);
          return 2;
        }
        options.tracer.ring_buffer_bytes = static_cast<uint32_t>(number);
        break;
      case kNoPeerAddress:
        options.tracer.capture_peer = false;
        break;
      case kNoHostScan:
        options.scan_host_directories = false;
        break;
      case kStatsInterval:
        if (!ParseUnsigned(optarg, 0, 86400, number)) {
          fprintf(stderr, "jamjet-agent: invalid --stats-interval \"%s\": expected 0 to 86400\n",
                  optarg);
          return 2;
        }
        options.stats_interval_seconds = static_cast<int>(number);
        break;
      case kConsumerDelay:
        if (!ParseUnsigned(optarg, 0, 60000, number)) {
          fprintf(stderr, "jamjet-agent: invalid --consumer-delay-ms \"%s\": expected 0 to 60000\n",
                  optarg);
          return 2;
        }
        options.consumer_delay_ms = static_cast<int>(number);
        break;
      case kHelp:
        fputs(kUsage, stdout);
        fputs(
            "\nOTLP exporter options (environment variables override the config file, flags\n"
            "override both):\n",
            stdout);
        for (const std::string& line : jamjet::otlp::OtlpHelpLines())
          printf("  %s\n", line.c_str());
        return 0;
      case kVersion:
        printf("jamjet-agent %s\n", JAMJET_VERSION);
        return 0;
      default:
        fputs(kUsage, stderr);
        return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "jamjet-agent: unexpected argument \"%s\"\n", argv[optind]);
    return 2;
  }

  if (std::string missing = CheckPrivileges(); !missing.empty()) {
    spdlog::error("{}", missing);
    return 1;
  }

  struct sigaction action = {};
  action.sa_handler = RequestStop;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<std::unique_ptr<jamjet::Agent>> agent = jamjet::Agent::Create(std::move(options));
  if (!agent.ok()) {
    spdlog::error("{}", std::string(agent.status().message()));
    return 1;
  }
  absl::Status status = (*agent)->Run(stop_requested);
  if (!status.ok()) {
    spdlog::error("{}", std::string(status.message()));
    return 1;
  }
  spdlog::info("jamjet-agent stopped");
  return 0;
}
