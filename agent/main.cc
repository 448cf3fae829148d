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

#include "agent/agent.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace {

std::atomic<bool> stop_requested{false};

void RequestStop(int) { stop_requested.store(true); }

constexpr const char kUsage[] = R"(Usage: jamjet-agent [OPTION]...
Reports every LLM API call made over OpenSSL on this host as one span. Run as root.

Options:
  --output SINK           where spans go: "stdout" (one JSON object per line) or
                          "file:PATH" (the same lines appended to PATH); repeat to use
                          several sinks. Default: stdout.
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
  kOutput = 1000,
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

int main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("jamjet"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  jamjet::AgentOptions options;
  static const option kOptions[] = {
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
      {nullptr, 0, nullptr, 0},
  };
  int id;
  uint64_t number = 0;
  while ((id = getopt_long(argc, argv, "", kOptions, nullptr)) != -1) {
    switch (id) {
      case kOutput:
        options.outputs.push_back(optarg);
        break;
      case kLogLevel: {
        spdlog::level::level_enum level = spdlog::level::from_str(optarg);
        if (level == spdlog::level::off && std::string(optarg) != "off") {
          fprintf(stderr, "jamjet-agent: invalid --log-level \"%s\"\n", optarg);
          return 2;
        }
        spdlog::set_level(level);
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
