#include "exporter/otlp/otlp_encoder.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace jamjet::otlp {
namespace {

namespace collector = opentelemetry::proto::collector::trace::v1;
namespace trace = opentelemetry::proto::trace::v1;

Span MakeSpan(const std::string& span_id, int64_t pid) {
  Span span;
  span.name = "chat gpt-4o";
  span.trace_id = "0af7651916cd43dd8448eb211c80319c";
  span.span_id = span_id;
  span.start_time_unix_nano = 1'700'000'000'000'000'000;
  span.end_time_unix_nano = 1'700'000'000'500'000'000;
  span.status_code = StatusCode::kError;
  span.status_message = "HTTP 500";
  span.attributes = {
      {"gen_ai.request.model", std::string("gpt-4o")},
      {"gen_ai.usage.input_tokens", int64_t{42}},
      {"gen_ai.usage.cost", 0.25},
      {"gen_ai.request.stream", true},
      {"gen_ai.response.finish_reasons", std::vector<std::string>{"stop", "length"}}};
  span.resource = {{"process.pid", pid}, {"host.name", std::string("process-override")}};
  return span;
}

EncodedSpan Encode(const Span& span, const Resource& host) {
  EncodedSpan encoded;
  encoded.resource = EncodeResource(span.resource, host);
  encoded.span = EncodeSpan(span);
  return encoded;
}

std::string Gunzip(const std::string& data) {
  z_stream stream;
  std::memset(&stream, 0, sizeof(stream));
  inflateInit2(&stream, 15 + 16);
  std::string out(1 << 20, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int result = inflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  inflateEnd(&stream);
  return result == Z_STREAM_END ? out : "";
}

Resource TestHost() {
  Resource host;
  host.attributes = {{"host.name", std::string("build-host")}, {"os.type", std::string("linux")}};
  return host;
}

TEST(EncoderTest, SpanFieldsDecode) {
  trace::Span decoded;
  ASSERT_TRUE(decoded.ParseFromString(EncodeSpan(MakeSpan("b7ad6b7169203331", 1))));
  EXPECT_EQ(decoded.trace_id(), HexToBytes("0af7651916cd43dd8448eb211c80319c"));
  EXPECT_EQ(decoded.trace_id().size(), 16u);
  EXPECT_EQ(decoded.span_id(), HexToBytes("b7ad6b7169203331"));
  EXPECT_EQ(decoded.name(), "chat gpt-4o");
  EXPECT_EQ(decoded.kind(), trace::Span::SPAN_KIND_CLIENT);
  EXPECT_EQ(decoded.start_time_unix_nano(), 1'700'000'000'000'000'000u);
  EXPECT_EQ(decoded.end_time_unix_nano(), 1'700'000'000'500'000'000u);
  EXPECT_EQ(decoded.status().code(), trace::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(decoded.status().message(), "HTTP 500");
}

TEST(EncoderTest, AttributeTypesMapToAnyValue) {
  trace::Span decoded;
  ASSERT_TRUE(decoded.ParseFromString(EncodeSpan(MakeSpan("b7ad6b7169203331", 1))));
  ASSERT_EQ(decoded.attributes_size(), 5);
  EXPECT_EQ(decoded.attributes(0).key(), "gen_ai.request.model");
  EXPECT_EQ(decoded.attributes(0).value().string_value(), "gpt-4o");
  EXPECT_EQ(decoded.attributes(1).value().int_value(), 42);
  EXPECT_DOUBLE_EQ(decoded.attributes(2).value().double_value(), 0.25);
  EXPECT_TRUE(decoded.attributes(3).value().bool_value());
  const auto& array = decoded.attributes(4).value().array_value();
  ASSERT_EQ(array.values_size(), 2);
  EXPECT_EQ(array.values(0).string_value(), "stop");
  EXPECT_EQ(array.values(1).string_value(), "length");
}

TEST(EncoderTest, UnsetStatusIsOmitted) {
  Span span = MakeSpan("b7ad6b7169203331", 1);
  span.status_code = StatusCode::kUnset;
  trace::Span decoded;
  ASSERT_TRUE(decoded.ParseFromString(EncodeSpan(span)));
  EXPECT_FALSE(decoded.has_status());
}

TEST(EncoderTest, InvalidHexGivesEmptyId) {
  EXPECT_EQ(HexToBytes("zz"), "");
  EXPECT_EQ(HexToBytes("abc"), "");
  EXPECT_EQ(HexToBytes("0aFF"), std::string("\x0a\xff", 2));
}

TEST(EncoderTest, RequestGroupsSpansByProcess) {
  Resource host = TestHost();
  std::vector<EncodedSpan> batch = {Encode(MakeSpan("0000000000000001", 10), host),
                                    Encode(MakeSpan("0000000000000002", 20), host),
                                    Encode(MakeSpan("0000000000000003", 10), host)};
  collector::ExportTraceServiceRequest request;
  ASSERT_TRUE(request.ParseFromString(BuildRequest(batch)));
  ASSERT_EQ(request.resource_spans_size(), 2);
  const auto& first = request.resource_spans(0);
  ASSERT_EQ(first.scope_spans_size(), 1);
  EXPECT_EQ(first.scope_spans(0).scope().name(), "jamjet-agent");
  ASSERT_EQ(first.scope_spans(0).spans_size(), 2);
  EXPECT_EQ(first.scope_spans(0).spans(0).span_id(), HexToBytes("0000000000000001"));
  EXPECT_EQ(first.scope_spans(0).spans(1).span_id(), HexToBytes("0000000000000003"));
  EXPECT_EQ(request.resource_spans(1).scope_spans(0).spans_size(), 1);
}

TEST(EncoderTest, ResourceMergesHostAndProcess) {
  opentelemetry::proto::resource::v1::Resource resource;
  ASSERT_TRUE(resource.ParseFromString(EncodeResource(MakeSpan("01", 7).resource, TestHost())));
  ASSERT_EQ(resource.attributes_size(), 3);
  EXPECT_EQ(resource.attributes(0).key(), "host.name");
  EXPECT_EQ(resource.attributes(0).value().string_value(), "process-override");
  EXPECT_EQ(resource.attributes(1).key(), "os.type");
  EXPECT_EQ(resource.attributes(2).key(), "process.pid");
  EXPECT_EQ(resource.attributes(2).value().int_value(), 7);
}

TEST(EncoderTest, CompleteHostResourceAddsMissingKeys) {
  Resource host = CompleteHostResource(TestHost());
  EXPECT_NE(FindAttribute(host.attributes, "host.name"), nullptr);
  EXPECT_EQ(std::get<std::string>(*FindAttribute(host.attributes, "host.name")), "build-host");
  EXPECT_NE(FindAttribute(host.attributes, "telemetry.distro.name"), nullptr);
  EXPECT_NE(FindAttribute(host.attributes, "telemetry.distro.version"), nullptr);
}

TEST(EncoderTest, GzipRoundTrip) {
  std::string data(100'000, 'x');
  for (size_t i = 0; i < data.size(); i += 7) data[i] = static_cast<char>('a' + i % 26);
  absl::StatusOr<std::string> compressed = Gzip(data);
  ASSERT_TRUE(compressed.ok());
  EXPECT_LT(compressed->size(), data.size() / 4);
  EXPECT_EQ(static_cast<unsigned char>((*compressed)[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>((*compressed)[1]), 0x8b);
  EXPECT_EQ(Gunzip(*compressed), data);
}

TEST(EncoderTest, RecordRoundTrip) {
  EncodedSpan span = Encode(MakeSpan("b7ad6b7169203331", 1), TestHost());
  EncodedSpan restored;
  ASSERT_TRUE(UnpackRecord(PackRecord(span), restored));
  EXPECT_EQ(restored.resource, span.resource);
  EXPECT_EQ(restored.span, span.span);
  EXPECT_FALSE(UnpackRecord("ab", restored));
  EXPECT_FALSE(UnpackRecord(std::string("\xff\x00\x00\x00xyz", 7), restored));
}

}  // namespace
}  // namespace jamjet::otlp
