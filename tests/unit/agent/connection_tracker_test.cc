// ConnectionTracker fed with synthetic data, context, close and exit events.
#include "agent/connection_tracker.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/unit/agent/tracker_test_util.h"

namespace jamjet {
namespace {

using testing::DataRecord;
using testing::FakeConnection;
using testing::Feed;
using testing::HttpPost;
using testing::HttpResponse;
using testing::MakeContextEvent;

constexpr uint32_t kPid = 4242;
constexpr uint32_t kTid = 4243;
constexpr uint64_t kSsl = 0x55aa00001000;
constexpr uint64_t kSecond = 1'000'000'000;

// Returns `size` bytes of printable text that differ from position to position.
std::string Pattern(size_t size) {
  std::string text(size, ' ');
  for (size_t i = 0; i < size; ++i) text[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
  return text;
}

class TrackerTest : public ::testing::Test {
 protected:
  void MakeTracker(TrackerOptions options = {}) {
    tracker_ = std::make_unique<ConnectionTracker>(
        options, [this](genai::Exchange&& exchange) { exchanges_.push_back(std::move(exchange)); });
  }
  void SetUp() override { MakeTracker(); }

  std::unique_ptr<ConnectionTracker> tracker_;
  std::vector<genai::Exchange> exchanges_;
};

TEST_F(TrackerTest, PairsRequestWithResponse) {
  FakeConnection connection(kPid, kSsl, "python3");
  connection.SetPeerIpv4("162.159.140.245", 443);
  Feed(*tracker_,
       connection.Write(kTid,
                        HttpPost("/v1/chat/completions", "api.openai.com", R"({"model":"gpt-4o"})"),
                        10 * kSecond));
  Feed(*tracker_,
       connection.Read(kTid, HttpResponse(200, "application/json", R"({"id":"x"})"), 11 * kSecond));

  ASSERT_EQ(exchanges_.size(), 1u);
  const genai::Exchange& exchange = exchanges_[0];
  EXPECT_EQ(exchange.request.method, "POST");
  EXPECT_EQ(exchange.request.target, "/v1/chat/completions");
  EXPECT_EQ(exchange.request.body, R"({"model":"gpt-4o"})");
  EXPECT_TRUE(exchange.request.complete);
  // Writes are timed at the call's entry, reads at the call's return.
  EXPECT_EQ(exchange.request.first_byte_ns, 10 * kSecond);
  ASSERT_TRUE(exchange.response.has_value());
  EXPECT_EQ(exchange.response->status_code, 200);
  EXPECT_EQ(exchange.response->body, R"({"id":"x"})");
  EXPECT_EQ(exchange.response->first_byte_ns, 11 * kSecond);
  EXPECT_EQ(exchange.connection.pid, kPid);
  EXPECT_EQ(exchange.connection.tid, kTid);
  EXPECT_EQ(exchange.connection.executable_name, "python3");
  EXPECT_EQ(exchange.connection.peer_address, "162.159.140.245");
  EXPECT_EQ(exchange.connection.peer_port, 443);
  EXPECT_FALSE(exchange.user_context.has_value());
  EXPECT_EQ(tracker_->stats().exchanges, 1u);
  EXPECT_EQ(tracker_->stats().data_events, 2u);
  EXPECT_EQ(tracker_->stats().lost_event_gaps, 0u);
}

TEST_F(TrackerTest, FormatsIpv6Peer) {
  FakeConnection connection(kPid, kSsl);
  connection.SetPeerIpv6("2606:4700::6812:1", 8443);
  Feed(*tracker_, connection.Write(kTid, HttpPost("/a", "h", "{}"), kSecond));
  Feed(*tracker_, connection.Read(kTid, HttpResponse(200, "application/json", "{}"), 2 * kSecond));

  ASSERT_EQ(exchanges_.size(), 1u);
  EXPECT_EQ(exchanges_[0].connection.peer_address, "2606:4700::6812:1");
  EXPECT_EQ(exchanges_[0].connection.peer_port, 8443);
}

TEST_F(TrackerTest, KeepAlivePairsInOrder) {
  FakeConnection connection(kPid, kSsl);
  for (int i = 0; i < 3; ++i) {
    uint64_t start = (10 + 2 * i) * kSecond;
    std::string index = std::to_string(i);
    Feed(*tracker_, connection.Write(kTid, HttpPost("/req/" + index, "h", "q" + index), start));
    Feed(*tracker_,
         connection.Read(kTid, HttpResponse(200, "text/plain", "r" + index), start + kSecond));
  }

  ASSERT_EQ(exchanges_.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    std::string index = std::to_string(i);
    EXPECT_EQ(exchanges_[i].request.target, "/req/" + index);
    ASSERT_TRUE(exchanges_[i].response.has_value());
    EXPECT_EQ(exchanges_[i].response->body, "r" + index);
  }
}

TEST_F(TrackerTest, PipelinedRequestsPairInOrder) {
  FakeConnection connection(kPid, kSsl);
  Feed(*tracker_, connection.Write(kTid, HttpPost("/first", "h", "1"), kSecond));
  Feed(*tracker_, connection.Write(kTid, HttpPost("/second", "h", "2"), 2 * kSecond));
  // Both responses arrive in one SSL_read.
  Feed(*tracker_,
       connection.Read(
           kTid, HttpResponse(200, "text/plain", "one") + HttpResponse(201, "text/plain", "two"),
           3 * kSecond));

  ASSERT_EQ(exchanges_.size(), 2u);
  EXPECT_EQ(exchanges_[0].request.target, "/first");
  EXPECT_EQ(exchanges_[0].response->body, "one");
  EXPECT_EQ(exchanges_[1].request.target, "/second");
  EXPECT_EQ(exchanges_[1].response->body, "two");
}

TEST_F(TrackerTest, ResponseBeforeAnyRequestIgnored) {
  FakeConnection connection(kPid, kSsl);
  // The agent attached while a response was arriving: no request was seen on this connection.
  Feed(*tracker_, connection.Read(kTid, HttpResponse(200, "text/plain", "stale"), kSecond));
  Feed(*tracker_, connection.Write(kTid, HttpPost("/new", "h", "{}"), 2 * kSecond));
  Feed(*tracker_, connection.Read(kTid, HttpResponse(200, "text/plain", "fresh"), 3 * kSecond));

  ASSERT_EQ(exchanges_.size(), 1u);
  EXPECT_EQ(exchanges_[0].request.target, "/new");
  EXPECT_EQ(exchanges_[0].response->body, "fresh");
  EXPECT_EQ(tracker_->stats().lost_event_gaps, 0u);
}

TEST_F(TrackerTest, ServerSideConnectionIgnored) {
  FakeConnection connection(kPid, kSsl, "nginx");
  // The process reads a request and writes the response: it serves HTTP on this connection.
  Feed(*tracker_, connection.Read(kTid, HttpPost("/in", "h", "{}"), kSecond));
  Feed(*tracker_, connection.Write(kTid, HttpResponse(200, "text/plain", "out"), 2 * kSecond));
  Feed(*tracker_, connection.Read(kTid, HttpPost("/in2", "h", "{}"), 3 * kSecond));
  Feed(*tracker_, connection.Write(kTid, HttpResponse(200, "text/plain", "out2"), 4 * kSecond));
  tracker_->FlushAll(5 * kSecond);
  tracker_->OnClose(kPid, kSsl, 6 * kSecond);

  EXPECT_TRUE(exchanges_.empty());
  EXPECT_EQ(tracker_->stats().server_side_connections, 1u);
  EXPECT_EQ(tracker_->stats().exchanges, 0u);
  EXPECT_EQ(tracker_->connection_count(), 0u);
}

TEST_F(TrackerTest, ReassemblesMultiChunkCall) {
  FakeConnection connection(kPid, kSsl);
  std::string body = Pattern(40'000);
  // 40 kB in 16 KiB chunks: three events for the request.
  std::vector<DataRecord> request = connection.Write(kTid, HttpPost("/big", "h", body), kSecond);
  ASSERT_EQ(request.size(), 3u);
  Feed(*tracker_, request);
  std::string response_body = Pattern(20'000);
  Feed(*tracker_,
       connection.Read(kTid, HttpResponse(200, "text/plain", response_body), 2 * kSecond, 4096));

  ASSERT_EQ(exchanges_.size(), 1u);
  EXPECT_EQ(exchanges_[0].request.body.size(), body.size());
  EXPECT_TRUE(exchanges_[0].request.body == body) << "request body differs";
  EXPECT_TRUE(exchanges_[0].response->body == response_body) << "response body differs";
  EXPECT_EQ(tracker_->stats().lost_event_gaps, 0u);
}

TEST_F(TrackerTest, InterleavedConnectionsAndThreads) {
  FakeConnection first(kPid, kSsl);
  FakeConnection second(kPid, kSsl + 0x100);
  std::string body_a = Pattern(30'000);
  std::string body_b(30'000, 'b');
  std::vector<DataRecord> write_a = first.Write(100, HttpPost("/a", "h", body_a), kSecond, 8192);
  std::vector<DataRecord> write_b =
      second.Write(200, HttpPost("/b", "h", body_b), kSecond + 1, 8192);
  ASSERT_EQ(write_a.size(), write_b.size());
  // The chunks of both calls alternate in the ring buffer.
  for (size_t i = 0; i < write_a.size(); ++i) {
    tracker_->OnData(*write_a[i].event, write_a[i].size);
    tracker_->OnData(*write_b[i].event, write_b[i].size);
  }
  Feed(*tracker_, second.Read(200, HttpResponse(200, "text/plain", "B"), 2 * kSecond));
  Feed(*tracker_, first.Read(100, HttpResponse(200, "text/plain", "A"), 3 * kSecond));

  ASSERT_EQ(exchanges_.size(), 2u);
  EXPECT_EQ(exchanges_[0].request.target, "/b");
  EXPECT_TRUE(exchanges_[0].request.body == body_b) << "body of /b differs";
  EXPECT_EQ(exchanges_[0].response->body, "B");
  EXPECT_EQ(exchanges_[0].connection.tid, 200u);
  EXPECT_EQ(exchanges_[1].request.target, "/a");
  EXPECT_TRUE(exchanges_[1].request.body == body_a) << "body of /a differs";
  EXPECT_EQ(exchanges_[1].response->body, "A");
  EXPECT_EQ(exchanges_[1].connection.tid, 100u);
  EXPECT_EQ(tracker_->stats().lost_event_gaps, 0u);
}

// How the events of the first request's call get lost.
enum class Loss {
  kMiddleChunk,        // the ring buffer was full for one chunk
  kLastChunk,          // the final chunk never arrived
  kZeroByteChunk,      // bpf_probe_read_user failed: the chunk arrives with no bytes
  kZeroByteOnlyChunk,  // a one-chunk call whose read failed
  kWholeBodyCall,      // the SSL_write of the body is missing: the stream offset jumps
};

struct LossCase {
  const char* name;
  Loss loss;
};

void PrintTo(const LossCase& loss_case, std::ostream* out) { *out << loss_case.name; }

class TrackerLossTest : public TrackerTest, public ::testing::WithParamInterface<LossCase> {};

TEST_P(TrackerLossTest, DropsAffectedMessageOnly) {
  FakeConnection connection(kPid, kSsl);
  std::string lost_body = Pattern(40'000);
  std::string request = HttpPost("/lost", "h", lost_body);
  std::string headers = request.substr(0, request.size() - lost_body.size());

  switch (GetParam().loss) {
    case Loss::kMiddleChunk: {
      std::vector<DataRecord> events = connection.Write(kTid, request, kSecond);
      ASSERT_EQ(events.size(), 3u);
      events.erase(events.begin() + 1);
      Feed(*tracker_, events);
      break;
    }
    case Loss::kLastChunk: {
      std::vector<DataRecord> events = connection.Write(kTid, request, kSecond);
      events.pop_back();
      Feed(*tracker_, events);
      break;
    }
    case Loss::kZeroByteChunk: {
      std::vector<DataRecord> events = connection.Write(kTid, request, kSecond);
      events[1].event->chunk_bytes = 0;
      events[1].size = offsetof(jj_data_event, data);
      Feed(*tracker_, events);
      break;
    }
    case Loss::kZeroByteOnlyChunk: {
      std::vector<DataRecord> events =
          connection.Write(kTid, HttpPost("/lost", "h", "{}"), kSecond);
      ASSERT_EQ(events.size(), 1u);
      events[0].event->chunk_bytes = 0;
      events[0].size = offsetof(jj_data_event, data);
      Feed(*tracker_, events);
      break;
    }
    case Loss::kWholeBodyCall: {
      Feed(*tracker_, connection.Write(kTid, headers, kSecond));
      connection.Write(kTid, lost_body, kSecond + 10);  // never fed
      break;
    }
  }
  // The server answered the lost request, then a second one.
  Feed(*tracker_, connection.Read(kTid, HttpResponse(200, "text/plain", "lost"), 2 * kSecond));
  Feed(*tracker_, connection.Write(kTid, HttpPost("/kept", "h", "{}"), 3 * kSecond));
  Feed(*tracker_, connection.Read(kTid, HttpResponse(200, "text/plain", "kept"), 4 * kSecond));
  tracker_->OnClose(kPid, kSsl, 5 * kSecond);

  ASSERT_EQ(exchanges_.size(), 1u);
  EXPECT_EQ(exchanges_[0].request.target, "/kept");
  ASSERT_TRUE(exchanges_[0].response.has_value());
  EXPECT_EQ(exchanges_[0].response->body, "kept");
  EXPECT_GE(tracker_->stats().lost_event_gaps, 1u);
}

INSTANTIATE_TEST_SUITE_P(Losses, TrackerLossTest,
                         ::testing::Values(LossCase{"MiddleChunk", Loss::kMiddleChunk},
                                           LossCase{"LastChunk", Loss::kLastChunk},
                                           LossCase{"ZeroByteChunk", Loss::kZeroByteChunk},
                                           LossCase{"ZeroByteOnlyChunk", Loss::kZeroByteOnlyChunk},
                                           LossCase{"WholeBodyCall", Loss::kWholeBodyCall}),
                         [](const ::testing::TestParamInfo<LossCase>& info) {
                           return info.param.name;
                         });

// One lost chunk is one gap in the event stream: the orphan chunks after it and the stream
// offset jump it causes are not counted again.
TEST_F(TrackerTest, LostFirstChunkCountsOneGap) {
  FakeConnection connection(kPid, kSsl);
  std::vector<DataRecord> events =
      connection.Write(kTid, HttpPost("/lost", "h", Pattern(40'000)), kSecond);
  ASSERT_EQ(events.size(), 3u);
  events.erase(events.begin());
  Feed(*tracker_, events);
  Feed(*tracker_, connection.Write(kTid, HttpPost("/kept", "h", "{}"), 3 * kSecond));

  EXPECT_EQ(tracker_->stats().lost_event_gaps, 1u);
}

// A response lost to a gap does not shift the pairing of the responses after it: "/one" is
// reported without a response and "/two" keeps its own.
TEST_F(TrackerTest, LostResponseKeepsLaterPairing) {
  FakeConnection connection(kPid, kSsl);
  Feed(*tracker_, connection.Write(kTid, HttpPost("/one", "h", "{}"), kSecond));
  std::vector<DataRecord> response =
      connection.Read(kTid, HttpResponse(200, "text/plain", Pattern(40'000)), 2 * kSecond);
  ASSERT_EQ(response.size(), 3u);
  response.erase(response.begin() + 1);
  Feed(*tracker_, response);
  Feed(*tracker_, connection.Write(kTid, HttpPost("/two", "h", "{}"), 3 * kSecond));
  Feed(*tracker_, connection.Read(kTid, HttpResponse(200, "text/plain", "two"), 4 * kSecond));
  tracker_->OnClose(kPid, kSsl, 5 * kSecond);

  EXPECT_EQ(tracker_->stats().lost_event_gaps, 1u);
  ASSERT_FALSE(exchanges_.empty());
  const genai::Exchange& last = exchanges_.back();
  EXPECT_EQ(last.request.target, "/two");
  ASSERT_TRUE(last.response.has_value());
  EXPECT_EQ(last.response->body, "two");
  for (const genai::Exchange& exchange : exchanges_) {
    if (exchange.request.target != "/one") continue;
    EXPECT_FALSE(exchange.response.has_value());
  }
}

TEST_F(TrackerTest, TruncatedCallKeepsFramingAndCapsBody) {
  // The body cap (8 KiB) is below the call cap (32 KiB), as in production (8 MiB, 16 MiB).
  TrackerOptions options;
  options.max_call_bytes = 32 * 1024;
  options.parser_limits.max_body_bytes = 8 * 1024;
  MakeTracker(options);
  FakeConnection connection(kPid, kSsl);
  std::string body = Pattern(100'000);
  std::string request = HttpPost("/upload", "h", body);
  Feed(*tracker_, connection.Call(JJ_DIRECTION_WRITE, kTid, request, kSecond, kSecond + 1,
                                  JJ_CHUNK_BYTES, options.max_call_bytes));
  Feed(*tracker_, connection.Read(kTid, HttpResponse(200, "text/plain", "done"), 2 * kSecond));
  Feed(*tracker_, connection.Write(kTid, HttpPost("/next", "h", "{}"), 3 * kSecond));
  Feed(*tracker_, connection.Read(kTid, HttpResponse(200, "text/plain", "next"), 4 * kSecond));

  ASSERT_EQ(exchanges_.size(), 2u);
  const http::Message& cut = exchanges_[0].request;
  EXPECT_TRUE(cut.complete);
  EXPECT_TRUE(cut.body_truncated);
  EXPECT_EQ(cut.body.size(), 8u * 1024);
  EXPECT_TRUE(cut.body == body.substr(0, 8 * 1024)) << "body differs from the sent bytes";
  EXPECT_EQ(exchanges_[0].response->body, "done");
  EXPECT_EQ(exchanges_[1].request.target, "/next");
  EXPECT_EQ(exchanges_[1].response->body, "next");
  EXPECT_EQ(tracker_->stats().truncated_calls, 1u);
  EXPECT_EQ(tracker_->stats().lost_event_gaps, 0u);
}

// A call cut at max_call_bytes gives a body cut there, even when max_body_bytes is larger,
// never one padded with the bytes that keep the Content-Length framing.
TEST_F(TrackerTest, TruncatedCallBodyHasNoFiller) {
  TrackerOptions options;
  options.max_call_bytes = 32 * 1024;
  options.parser_limits.max_body_bytes = 1024 * 1024;
  MakeTracker(options);
  FakeConnection connection(kPid, kSsl);
  std::string body = Pattern(100'000);
  std::string request = HttpPost("/upload", "h", body);
  size_t headers_bytes = request.size() - body.size();
  Feed(*tracker_, connection.Call(JJ_DIRECTION_WRITE, kTid, request, kSecond, kSecond + 1,
                                  JJ_CHUNK_BYTES, options.max_call_bytes));
  Feed(*tracker_, connection.Read(kTid, HttpResponse(200, "text/plain", "done"), 2 * kSecond));

  ASSERT_EQ(exchanges_.size(), 1u);
  const http::Message& cut = exchanges_[0].request;
  EXPECT_TRUE(cut.body_truncated);
  EXPECT_EQ(cut.body.find('\0'), std::string::npos);
  std::string captured = body.substr(0, options.max_call_bytes - headers_bytes);
  EXPECT_EQ(cut.body.size(), captured.size());
  EXPECT_TRUE(cut.body == captured) << "body differs from the captured bytes";
}

TEST_F(TrackerTest, UserContextFollowsWritingThread) {
  // Two threads write requests on two connections; their context events and chunks interleave.
  FakeConnection first(kPid, kSsl);
  FakeConnection second(kPid, kSsl + 0x100);
  constexpr uint32_t kAlice = 301;
  constexpr uint32_t kBob = 302;
  uint64_t alice_start = 10 * kSecond;
  uint64_t bob_start = 10 * kSecond + 5;
  auto alice_context = MakeContextEvent(kPid, kAlice, first.ssl(), alice_start, "alice-record");
  auto bob_context = MakeContextEvent(kPid, kBob, second.ssl(), bob_start, "bob-record");
  std::vector<DataRecord> alice_write =
      first.Write(kAlice, HttpPost("/alice", "h", Pattern(20'000)), alice_start, 4096);
  std::vector<DataRecord> bob_write =
      second.Write(kBob, HttpPost("/bob", "h", Pattern(20'000)), bob_start, 4096);

  tracker_->OnUserContext(*alice_context, sizeof(jj_context_event));
  tracker_->OnUserContext(*bob_context, sizeof(jj_context_event));
  for (size_t i = 0; i < std::max(alice_write.size(), bob_write.size()); ++i) {
    if (i < bob_write.size()) tracker_->OnData(*bob_write[i].event, bob_write[i].size);
    if (i < alice_write.size()) tracker_->OnData(*alice_write[i].event, alice_write[i].size);
  }
  Feed(*tracker_, first.Read(kAlice, HttpResponse(200, "text/plain", "A"), 11 * kSecond));
  Feed(*tracker_, second.Read(kBob, HttpResponse(200, "text/plain", "B"), 12 * kSecond));

  ASSERT_EQ(exchanges_.size(), 2u);
  EXPECT_EQ(exchanges_[0].request.target, "/alice");
  ASSERT_TRUE(exchanges_[0].user_context.has_value());
  EXPECT_EQ(exchanges_[0].user_context->record, "alice-record");
  EXPECT_EQ(exchanges_[0].user_context->source, static_cast<uint32_t>(JJ_CONTEXT_SCOPE));
  EXPECT_EQ(exchanges_[0].connection.tid, kAlice);
  EXPECT_EQ(exchanges_[1].request.target, "/bob");
  ASSERT_TRUE(exchanges_[1].user_context.has_value());
  EXPECT_EQ(exchanges_[1].user_context->record, "bob-record");
  EXPECT_EQ(exchanges_[1].connection.tid, kBob);
  EXPECT_EQ(tracker_->stats().unmatched_contexts, 0u);
}

TEST_F(TrackerTest, UserContextOfFirstByteCallWins) {
  // Headers and body go out in two SSL_writes, each with its own context event: the request
  // belongs to the user in effect when its first byte was written.
  FakeConnection connection(kPid, kSsl);
  std::string body = Pattern(1000);
  std::string request = HttpPost("/split", "h", body);
  std::string headers = request.substr(0, request.size() - body.size());
  auto header_context = MakeContextEvent(kPid, kTid, kSsl, kSecond, "header-user");
  auto body_context = MakeContextEvent(kPid, kTid, kSsl, 2 * kSecond, "body-user");

  tracker_->OnUserContext(*header_context, sizeof(jj_context_event));
  Feed(*tracker_, connection.Write(kTid, headers, kSecond));
  tracker_->OnUserContext(*body_context, sizeof(jj_context_event));
  Feed(*tracker_, connection.Write(kTid, body, 2 * kSecond));
  Feed(*tracker_, connection.Read(kTid, HttpResponse(200, "text/plain", "ok"), 3 * kSecond));

  ASSERT_EQ(exchanges_.size(), 1u);
  ASSERT_TRUE(exchanges_[0].user_context.has_value());
  EXPECT_EQ(exchanges_[0].user_context->record, "header-user");
}

TEST_F(TrackerTest, UnmatchedContextsCountedAndNotAttached) {
  FakeConnection connection(kPid, kSsl);
  // An SSL_write that moved no bytes leaves a context without data; the thread's next write
  // replaces it.
  auto orphan = MakeContextEvent(kPid, kTid, kSsl, kSecond, "orphan");
  auto current = MakeContextEvent(kPid, kTid, kSsl, 2 * kSecond, "current");
  // A context whose call_start_ns matches no data event of this thread.
  auto other_call = MakeContextEvent(kPid, kTid + 1, kSsl, 2 * kSecond, "other-thread");

  tracker_->OnUserContext(*orphan, sizeof(jj_context_event));
  tracker_->OnUserContext(*current, sizeof(jj_context_event));
  tracker_->OnUserContext(*other_call, sizeof(jj_context_event));
  Feed(*tracker_, connection.Write(kTid, HttpPost("/a", "h", "{}"), 2 * kSecond));
  Feed(*tracker_, connection.Read(kTid, HttpResponse(200, "text/plain", "A"), 3 * kSecond));
  // A write whose context event went missing gets no user.
  Feed(*tracker_, connection.Write(kTid, HttpPost("/b", "h", "{}"), 4 * kSecond));
  Feed(*tracker_, connection.Read(kTid, HttpResponse(200, "text/plain", "B"), 5 * kSecond));

  ASSERT_EQ(exchanges_.size(), 2u);
  ASSERT_TRUE(exchanges_[0].user_context.has_value());
  EXPECT_EQ(exchanges_[0].user_context->record, "current");
  EXPECT_FALSE(exchanges_[1].user_context.has_value());
  EXPECT_EQ(tracker_->stats().unmatched_contexts, 1u);
}

TEST_F(TrackerTest, ContextAfterWriteNotAttached) {
  FakeConnection connection(kPid, kSsl);
  auto late = MakeContextEvent(kPid, kTid, kSsl, kSecond, "late");
  Feed(*tracker_, connection.Write(kTid, HttpPost("/a", "h", "{}"), kSecond));
  tracker_->OnUserContext(*late, sizeof(jj_context_event));
  Feed(*tracker_, connection.Read(kTid, HttpResponse(200, "text/plain", "A"), 2 * kSecond));

  ASSERT_EQ(exchanges_.size(), 1u);
  EXPECT_FALSE(exchanges_[0].user_context.has_value());
}

TEST_F(TrackerTest, IdleExpiryReportsMissingResponse) {
  TrackerOptions options;
  options.idle_timeout_ns = 60 * kSecond;
  MakeTracker(options);
  FakeConnection idle(kPid, kSsl);
  FakeConnection active(kPid, kSsl + 0x100);
  Feed(*tracker_, idle.Write(kTid, HttpPost("/stuck", "h", "{}"), kSecond));
  Feed(*tracker_, active.Write(kTid, HttpPost("/busy", "h", "{}"), 50 * kSecond));

  tracker_->ExpireIdle(61 * kSecond);  // exactly at the timeout: not idle yet
  EXPECT_TRUE(exchanges_.empty());
  EXPECT_EQ(tracker_->connection_count(), 2u);

  tracker_->ExpireIdle(62 * kSecond);
  ASSERT_EQ(exchanges_.size(), 1u);
  EXPECT_EQ(exchanges_[0].request.target, "/stuck");
  EXPECT_TRUE(exchanges_[0].request.complete);
  EXPECT_FALSE(exchanges_[0].response.has_value());
  EXPECT_EQ(tracker_->connection_count(), 1u);
}

TEST_F(TrackerTest, FlushAllReportsRequestsUnderWay) {
  FakeConnection waiting(kPid, kSsl);
  FakeConnection sending(kPid, kSsl + 0x100);
  FakeConnection receiving(kPid, kSsl + 0x200);
  Feed(*tracker_, waiting.Write(kTid, HttpPost("/waiting", "h", "{}"), kSecond));
  // Half of the body was written.
  std::string request = HttpPost("/sending", "h", Pattern(1000));
  Feed(*tracker_, sending.Write(kTid, request.substr(0, request.size() - 500), kSecond));
  // Half of the response body was read.
  Feed(*tracker_, receiving.Write(kTid, HttpPost("/receiving", "h", "{}"), kSecond));
  std::string response = HttpResponse(200, "text/plain", Pattern(1000));
  Feed(*tracker_, receiving.Read(kTid, response.substr(0, response.size() - 500), 2 * kSecond));

  tracker_->FlushAll(3 * kSecond);

  ASSERT_EQ(exchanges_.size(), 3u);
  std::map<std::string, const genai::Exchange*> by_target;
  for (const genai::Exchange& exchange : exchanges_) by_target[exchange.request.target] = &exchange;
  ASSERT_EQ(by_target.count("/waiting"), 1u);
  EXPECT_TRUE(by_target["/waiting"]->request.complete);
  EXPECT_FALSE(by_target["/waiting"]->response.has_value());
  ASSERT_EQ(by_target.count("/sending"), 1u);
  EXPECT_FALSE(by_target["/sending"]->request.complete);
  EXPECT_EQ(by_target["/sending"]->request.body, Pattern(500));
  EXPECT_FALSE(by_target["/sending"]->response.has_value());
  ASSERT_EQ(by_target.count("/receiving"), 1u);
  ASSERT_TRUE(by_target["/receiving"]->response.has_value());
  EXPECT_FALSE(by_target["/receiving"]->response->complete);
  EXPECT_EQ(by_target["/receiving"]->response->body, Pattern(500));
}

TEST_F(TrackerTest, MaxConnectionsEvictsLeastRecentlyActive) {
  TrackerOptions options;
  options.max_connections = 2;
  MakeTracker(options);
  FakeConnection oldest(kPid, kSsl);
  FakeConnection newer(kPid, kSsl + 0x100);
  FakeConnection newest(kPid + 1, kSsl);
  Feed(*tracker_, newer.Write(kTid, HttpPost("/newer", "h", "{}"), 5 * kSecond));
  Feed(*tracker_, oldest.Write(kTid, HttpPost("/oldest", "h", "{}"), 1 * kSecond));
  Feed(*tracker_, newest.Write(kTid, HttpPost("/newest", "h", "{}"), 9 * kSecond));

  EXPECT_EQ(tracker_->connection_count(), 2u);
  EXPECT_EQ(tracker_->stats().evicted_connections, 1u);
  ASSERT_EQ(exchanges_.size(), 1u);
  EXPECT_EQ(exchanges_[0].request.target, "/oldest");
  EXPECT_FALSE(exchanges_[0].response.has_value());

  // The connections that stayed still pair their responses.
  Feed(*tracker_, newer.Read(kTid, HttpResponse(200, "text/plain", "N"), 10 * kSecond));
  ASSERT_EQ(exchanges_.size(), 2u);
  EXPECT_EQ(exchanges_[1].request.target, "/newer");
  EXPECT_EQ(exchanges_[1].response->body, "N");
}

TEST_F(TrackerTest, CloseCompletesCloseDelimitedResponse) {
  FakeConnection connection(kPid, kSsl);
  Feed(*tracker_, connection.Write(kTid, HttpPost("/a", "h", "{}"), kSecond));
  Feed(*tracker_, connection.Read(kTid, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close",
                                  2 * kSecond));
  EXPECT_TRUE(exchanges_.empty());

  tracker_->OnClose(kPid, kSsl, 3 * kSecond);
  ASSERT_EQ(exchanges_.size(), 1u);
  ASSERT_TRUE(exchanges_[0].response.has_value());
  EXPECT_TRUE(exchanges_[0].response->complete);
  EXPECT_EQ(exchanges_[0].response->body, "until close");
  EXPECT_EQ(tracker_->connection_count(), 0u);
}

TEST_F(TrackerTest, ProcessExitClosesOnlyThatProcess) {
  FakeConnection exiting_a(kPid, kSsl);
  FakeConnection exiting_b(kPid, kSsl + 0x100);
  FakeConnection other(kPid + 1, kSsl);
  Feed(*tracker_, exiting_a.Write(kTid, HttpPost("/a", "h", "{}"), kSecond));
  Feed(*tracker_, exiting_b.Write(kTid, HttpPost("/b", "h", "{}"), kSecond));
  Feed(*tracker_, other.Write(kTid, HttpPost("/other", "h", "{}"), kSecond));

  tracker_->OnProcessExit(kPid, 2 * kSecond);

  ASSERT_EQ(exchanges_.size(), 2u);
  EXPECT_EQ(exchanges_[0].request.target, "/a");
  EXPECT_EQ(exchanges_[1].request.target, "/b");
  EXPECT_EQ(tracker_->connection_count(), 1u);
  // Unknown connections and pids are no-ops.
  tracker_->OnClose(kPid, kSsl, 3 * kSecond);
  tracker_->OnProcessExit(999, 3 * kSecond);
  EXPECT_EQ(exchanges_.size(), 2u);
}

struct MalformedCase {
  const char* name;
  size_t (*size)(jj_data_event& event);  // edits the event and returns the record size
};

void PrintTo(const MalformedCase& malformed_case, std::ostream* out) {
  *out << malformed_case.name;
}

class TrackerMalformedTest : public TrackerTest,
                             public ::testing::WithParamInterface<MalformedCase> {};

TEST_P(TrackerMalformedTest, CountsAndSkips) {
  FakeConnection connection(kPid, kSsl);
  std::vector<DataRecord> events = connection.Write(kTid, HttpPost("/a", "h", "{}"), kSecond);
  ASSERT_EQ(events.size(), 1u);
  size_t size = GetParam().size(*events[0].event);
  tracker_->OnData(*events[0].event, size);

  EXPECT_EQ(tracker_->stats().malformed_events, 1u);
  EXPECT_EQ(tracker_->stats().data_events, 0u);
  EXPECT_EQ(tracker_->connection_count(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Records, TrackerMalformedTest,
    ::testing::Values(MalformedCase{"ShorterThanHeader",
                                    [](jj_data_event&) {
                                      return offsetof(jj_data_event, data) - 1;
                                    }},
                      MalformedCase{"ShorterThanChunk",
                                    [](jj_data_event& event) {
                                      return offsetof(jj_data_event, data) + event.chunk_bytes - 1;
                                    }},
                      MalformedCase{"ChunkBytesTooLarge",
                                    [](jj_data_event& event) {
                                      event.chunk_bytes = JJ_CHUNK_BYTES + 1;
                                      return sizeof(jj_data_event);
                                    }},
                      MalformedCase{"UnknownDirection",
                                    [](jj_data_event& event) {
                                      event.direction = 2;
                                      return offsetof(jj_data_event, data) + event.chunk_bytes;
                                    }}),
    [](const ::testing::TestParamInfo<MalformedCase>& info) { return info.param.name; });

TEST_F(TrackerTest, MalformedContextEventCounted) {
  auto event = MakeContextEvent(kPid, kTid, kSsl, kSecond, "record");
  tracker_->OnUserContext(*event, sizeof(jj_context_event) - 1);
  event->record_bytes = JJ_CONTEXT_RECORD_MAX_BYTES + 1;
  tracker_->OnUserContext(*event, sizeof(jj_context_event));

  EXPECT_EQ(tracker_->stats().malformed_events, 2u);
}

TEST_F(TrackerTest, ParserStatsIncludeClosedConnections) {
  FakeConnection connection(kPid, kSsl);
  Feed(*tracker_, connection.Write(kTid, HttpPost("/a", "h", "{}"), kSecond));
  Feed(*tracker_, connection.Read(kTid, HttpResponse(200, "text/plain", "A"), 2 * kSecond));
  EXPECT_EQ(tracker_->parser_stats().messages, 2u);

  tracker_->OnClose(kPid, kSsl, 3 * kSecond);
  EXPECT_EQ(tracker_->parser_stats().messages, 2u);
}

}  // namespace
}  // namespace jamjet
