// Throughput of the capture pipeline on one core: synthetic BPF data events go through
// ConnectionTracker, each exchange through BuildLlmSpan, and each span through FormatSpanJson.
// Also measures the heap bytes the tracker keeps per idle connection.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/connection_tracker.h"
#include "agent/genai/id_source.h"
#include "agent/genai/prices.h"
#include "agent/genai/span_builder.h"
#include "exporter/json_lines_sink.h"
#include "tests/unit/agent/tracker_test_util.h"

namespace jamjet {
namespace {

using testing::DataRecord;
using testing::FakeConnection;
using testing::HttpPost;

constexpr uint32_t kPid = 4242;
constexpr uint32_t kTid = 4243;
constexpr uint64_t kSsl = 0x55aa00001000;

std::string ChunkedResponseHead(const std::string& content_type) {
  return "HTTP/1.1 200 OK\r\nContent-Type: " + content_type +
         "\r\nTransfer-Encoding: chunked\r\nrequest-id: req_011CRbench\r\n\r\n";
}

std::string ChunkOf(const std::string& data) {
  char size[32];
  snprintf(size, sizeof(size), "%zx\r\n", data.size());
  return size + data + "\r\n";
}

// The SSL calls of one exchange on a keep-alive connection, made once and replayed with
// stream offsets moved forward on each pass.
struct ExchangeEvents {
  std::vector<DataRecord> records;
  uint64_t write_bytes = 0;  // bytes per pass of each direction
  uint64_t read_bytes = 0;
};

ExchangeEvents OpenAiSmall() {
  FakeConnection connection(kPid, kSsl);
  connection.SetPeerIpv4("162.159.140.245", 443);
  std::string request_body =
      R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful )"
      R"(assistant."},{"role":"user","content":"Summarise the plot of Hamlet in two )"
      R"(sentences."}],"temperature":0.2,"max_tokens":200})";
  std::string response_body =
      R"({"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion",)"
      R"("created":1741569952,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,)"
      R"("message":{"role":"assistant","content":"Prince Hamlet seeks revenge on his uncle )"
      R"(Claudius, who murdered Hamlet's father to seize the throne. His hesitation and feigned )"
      R"(madness lead to a chain of deaths, including his own.","refusal":null},)"
      R"("logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":31,)"
      R"("completion_tokens":41,"total_tokens":72,"prompt_tokens_details":{"cached_tokens":0},)"
      R"("completion_tokens_details":{"reasoning_tokens":0}},"service_tier":"default",)"
      R"("system_fingerprint":"fp_06737a9306"})";
  std::string request = HttpPost("/v1/chat/completions", "api.openai.com", request_body);
  std::string response =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nopenai-processing-ms: 612\r\n"
      "x-request-id: req_bench\r\nContent-Length: " +
      std::to_string(response_body.size()) + "\r\n\r\n" + response_body;
  ExchangeEvents events;
  events.records = connection.Write(kTid, request, 1'000'000);
  for (DataRecord& record : connection.Read(kTid, response, 2'000'000)) {
    events.records.push_back(std::move(record));
  }
  events.write_bytes = request.size();
  events.read_bytes = response.size();
  return events;
}

ExchangeEvents AnthropicStream(int deltas) {
  FakeConnection connection(kPid, kSsl);
  connection.SetPeerIpv4("160.79.104.10", 443);
  std::string request_body =
      R"({"model":"claude-sonnet-4-20250514","max_tokens":1024,"stream":true,)"
      R"("messages":[{"role":"user","content":"Write a haiku about connection pooling."}]})";
  std::string request = HttpPost("/v1/messages", "api.anthropic.com", request_body);
  std::vector<std::string> reads;
  reads.push_back(ChunkedResponseHead("text/event-stream; charset=utf-8"));
  reads.push_back(ChunkOf(
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
      "\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\","
      "\"content\":[],\"model\":\"claude-sonnet-4-20250514\",\"stop_reason\":null,"
      "\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":0,"
      "\"cache_read_input_tokens\":0,\"output_tokens\":1}}}\n\n"));
  reads.push_back(
      ChunkOf("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
              "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"));
  for (int i = 0; i < deltas; ++i) {
    reads.push_back(
        ChunkOf("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
                "\"delta\":{\"type\":\"text_delta\",\"text\":\" pooled sockets wait\"}}\n\n"));
  }
  reads.push_back(ChunkOf(
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"));
  reads.push_back(
      ChunkOf("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
              "\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":" +
              std::to_string(deltas * 4) + "}}\n\n"));
  reads.push_back(ChunkOf("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n") +
                  "0\r\n\r\n");

  ExchangeEvents events;
  events.records = connection.Write(kTid, request, 1'000'000);
  events.write_bytes = request.size();
  uint64_t time = 2'000'000;
  for (const std::string& read : reads) {
    for (DataRecord& record : connection.Read(kTid, read, time)) {
      events.records.push_back(std::move(record));
    }
    events.read_bytes += read.size();
    time += 10'000'000;
  }
  return events;
}

ExchangeEvents OpenAiLargeRequest() {
  FakeConnection connection(kPid, kSsl);
  connection.SetPeerIpv4("162.159.140.245", 443);
  std::string head = R"({"model":"gpt-4o","messages":[{"role":"user","content":")";
  std::string tail = R"("}],"max_tokens":100})";
  std::string content(1024 * 1024 - head.size() - tail.size(), 'x');
  for (size_t i = 0; i < content.size(); i += 61) content[i] = ' ';
  std::string request = HttpPost("/v1/chat/completions", "api.openai.com", head + content + tail);
  std::string response_body =
      R"({"id":"chatcmpl-big","object":"chat.completion","created":1741569952,)"
      R"("model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant",)"
      R"("content":"Done."},"finish_reason":"stop"}],"usage":{"prompt_tokens":262000,)"
      R"("completion_tokens":3,"total_tokens":262003}})";
  std::string response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                         std::to_string(response_body.size()) + "\r\n\r\n" + response_body;
  ExchangeEvents events;
  events.records = connection.Write(kTid, request, 1'000'000);
  for (DataRecord& record : connection.Read(kTid, response, 900'000'000)) {
    events.records.push_back(std::move(record));
  }
  events.write_bytes = request.size();
  events.read_bytes = response.size();
  return events;
}

// Feeds the exchange `state.iterations()` times on one keep-alive connection, building and
// formatting a span for each exchange the tracker hands over. With `tracker_only` the handler
// only counts exchanges, which shows the tracker's share of the time.
void RunPipeline(benchmark::State& state, ExchangeEvents events, bool tracker_only = false) {
  genai::RandomIdSource ids;
  const genai::PriceTable& prices = genai::PriceTable::BuiltIn();
  Resource resource{{{"host.name", std::string("bench-host")}, {"os.type", std::string("linux")}}};
  int64_t spans = 0;
  size_t json_bytes = 0;
  ConnectionTracker tracker(TrackerOptions{}, [&](genai::Exchange&& exchange) {
    if (tracker_only) {
      ++spans;
      return;
    }
    std::optional<Span> span = genai::BuildLlmSpan(exchange, prices, ids);
    if (!span) return;
    ++spans;
    json_bytes += FormatSpanJson(*span, resource).size();
  });
  std::vector<uint64_t> base_offsets;
  for (const DataRecord& record : events.records)
    base_offsets.push_back(record.event->stream_offset);

  uint64_t pass = 0;
  uint64_t time_step = 3'000'000'000;
  for (auto _ : state) {
    for (size_t i = 0; i < events.records.size(); ++i) {
      jj_data_event& event = *events.records[i].event;
      uint64_t per_pass =
          event.direction == JJ_DIRECTION_WRITE ? events.write_bytes : events.read_bytes;
      event.stream_offset = base_offsets[i] + pass * per_pass;
      event.call_start_ns += time_step;
      event.header.timestamp_ns += time_step;
      tracker.OnData(event, events.records[i].size);
    }
    ++pass;
  }
  if (spans != static_cast<int64_t>(state.iterations())) {
    state.SkipWithError("an exchange did not become a span");
    return;
  }
  benchmark::DoNotOptimize(json_bytes);
  state.SetItemsProcessed(spans);
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * (events.write_bytes + events.read_bytes)));
  state.counters["spans/s"] =
      benchmark::Counter(static_cast<double>(spans), benchmark::Counter::kIsRate);
  state.counters["events/span"] = static_cast<double>(events.records.size());
  if (!tracker_only) state.counters["json_bytes/span"] = static_cast<double>(json_bytes) / spans;
}

void BM_OpenAiSmall(benchmark::State& state) { RunPipeline(state, OpenAiSmall()); }
BENCHMARK(BM_OpenAiSmall);

void BM_AnthropicStream50(benchmark::State& state) { RunPipeline(state, AnthropicStream(46)); }
BENCHMARK(BM_AnthropicStream50);

void BM_OpenAiRequest1MiB(benchmark::State& state) { RunPipeline(state, OpenAiLargeRequest()); }
BENCHMARK(BM_OpenAiRequest1MiB);

void BM_TrackerOnly_OpenAiSmall(benchmark::State& state) {
  RunPipeline(state, OpenAiSmall(), /*tracker_only=*/true);
}
BENCHMARK(BM_TrackerOnly_OpenAiSmall);

void BM_TrackerOnly_AnthropicStream50(benchmark::State& state) {
  RunPipeline(state, AnthropicStream(46), /*tracker_only=*/true);
}
BENCHMARK(BM_TrackerOnly_AnthropicStream50);

void BM_TrackerOnly_OpenAiRequest1MiB(benchmark::State& state) {
  RunPipeline(state, OpenAiLargeRequest(), /*tracker_only=*/true);
}
BENCHMARK(BM_TrackerOnly_OpenAiRequest1MiB);

// Heap bytes in use per idle connection, from mallinfo2().uordblks (glibc's count of bytes in
// allocated chunks, chunk headers included) before and after opening `connections` connections
// that each finished one small OpenAI exchange and then went idle.
void BM_IdleConnectionMemory(benchmark::State& state) {
  const int connections = static_cast<int>(state.range(0));
  bool finish_exchange = state.range(1) != 0;
  ExchangeEvents exchange = OpenAiSmall();
  double bytes_per_connection = 0;
  for (auto _ : state) {
    int64_t handled = 0;
    size_t before = mallinfo2().uordblks;
    {
      auto tracker = std::make_unique<ConnectionTracker>(TrackerOptions{},
                                                         [&](genai::Exchange&&) { ++handled; });
      for (int c = 0; c < connections; ++c) {
        for (const DataRecord& record : exchange.records) {
          jj_data_event& event = *record.event;
          event.ssl = kSsl + 0x1000 * static_cast<uint64_t>(c);
          if (!finish_exchange && event.direction == JJ_DIRECTION_READ) continue;
          tracker->OnData(event, record.size);
        }
      }
      size_t after = mallinfo2().uordblks;
      bytes_per_connection = static_cast<double>(after - before) / connections;
      if (tracker->connection_count() != static_cast<size_t>(connections)) {
        state.SkipWithError("connections were evicted");
      }
    }
    benchmark::DoNotOptimize(handled);
  }
  state.counters["bytes/connection"] = bytes_per_connection;
}
// Arguments: connections, and whether each connection's exchange completed (1) or its request
// still waits for the response (0).
BENCHMARK(BM_IdleConnectionMemory)->Args({10000, 1})->Args({10000, 0})->Iterations(1);

}  // namespace
}  // namespace jamjet

BENCHMARK_MAIN();
