#include "agent/http/content_decoding.h"

#include <brotli/decode.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"

namespace jamjet::http {
namespace {

// Decoders write into a fixed buffer and copy out at most the remaining allowance, so memory
// stays within max_output_bytes plus one buffer whatever the compression ratio.
constexpr size_t kChunkBytes = 16 << 10;
// Stages before the last of a stacked encoding output compressed bytes, which may decode to much
// more. They keep this much beyond max_output_bytes so that a small cap still gets filled.
constexpr size_t kIntermediateSlackBytes = 64 << 10;
// zlib counts input in uInt, so larger inputs are handed over in pieces of this size.
constexpr size_t kMaxZlibInputPiece = 1 << 30;

enum class ZlibFormat { kGzip, kZlib, kRawDeflate };

// Appends up to the remaining allowance. Returns false when bytes had to be dropped.
bool AppendCapped(const unsigned char* bytes, size_t size, size_t max_output_bytes,
                  DecodedContent& result) {
  size_t room = max_output_bytes - std::min(max_output_bytes, result.data.size());
  result.data.append(reinterpret_cast<const char*>(bytes), std::min(size, room));
  if (size <= room) return true;
  result.truncated = true;
  return false;
}

std::string_view FormatName(ZlibFormat format) {
  return format == ZlibFormat::kGzip ? "gzip" : "deflate";
}

bool StartsWithGzipMagic(std::string_view input) {
  return input.size() >= 2 && static_cast<unsigned char>(input[0]) == 0x1f &&
         static_cast<unsigned char>(input[1]) == 0x8b;
}

// RFC 1950 header: compression method 8 and a check value that makes the first two bytes,
// read as a big-endian number, a multiple of 31.
bool StartsWithZlibHeader(std::string_view input) {
  if (input.size() < 2) return false;
  unsigned cmf = static_cast<unsigned char>(input[0]);
  unsigned flg = static_cast<unsigned char>(input[1]);
  return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && (cmf * 256 + flg) % 31 == 0;
}

struct InflateStream {
  z_stream stream{};
  ~InflateStream() { inflateEnd(&stream); }
};

absl::StatusOr<DecodedContent> Inflate(std::string_view input, ZlibFormat format,
                                       size_t max_output_bytes) {
  int window_bits = format == ZlibFormat::kGzip   ? 16 + MAX_WBITS
                    : format == ZlibFormat::kZlib ? MAX_WBITS
                                                  : -MAX_WBITS;
  auto inflater = std::make_unique<InflateStream>();
  z_stream& stream = inflater->stream;
  if (inflateInit2(&stream, window_bits) != Z_OK) {
    return absl::ResourceExhaustedError("failed to initialise zlib inflate");
  }
  DecodedContent result;
  std::vector<unsigned char> buffer(kChunkBytes);
  std::string_view pending = input;  // input not yet handed to zlib
  while (true) {
    if (stream.avail_in == 0 && !pending.empty()) {
      size_t piece = std::min(pending.size(), kMaxZlibInputPiece);
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(pending.data()));
      stream.avail_in = static_cast<uInt>(piece);
      pending.remove_prefix(piece);
    }
    stream.next_out = buffer.data();
    stream.avail_out = static_cast<uInt>(buffer.size());
    int code = inflate(&stream, Z_NO_FLUSH);
    size_t produced = buffer.size() - stream.avail_out;
    if (!AppendCapped(buffer.data(), produced, max_output_bytes, result)) return result;

    if (code == Z_OK) continue;
    if (code == Z_STREAM_END) {
      // RFC 1952 allows several gzip members back to back. Other trailing bytes are ignored.
      std::string_view rest(reinterpret_cast<const char*>(stream.next_in), stream.avail_in);
      if (format != ZlibFormat::kGzip || !StartsWithGzipMagic(rest)) return result;
      inflateReset(&stream);
      continue;
    }
    if (code == Z_BUF_ERROR && stream.avail_in == 0 && pending.empty()) {
      result.input_ended_early = true;
      return result;
    }
    if (code == Z_MEM_ERROR) return absl::ResourceExhaustedError("zlib inflate ran out of memory");
    const char* reason = stream.msg != nullptr ? stream.msg
                         : code == Z_NEED_DICT ? "preset dictionary required"
                                               : "unexpected zlib state";
    return absl::InvalidArgumentError("invalid " + std::string(FormatName(format)) +
                                      " data: " + reason);
  }
}

absl::StatusOr<DecodedContent> DecodeOne(std::string_view coding, std::string_view input,
                                         size_t max_output_bytes) {
  if (coding == "gzip" || coding == "x-gzip") return DecodeGzip(input, max_output_bytes);
  if (coding == "deflate") return DecodeDeflate(input, max_output_bytes);
  if (coding == "br") return DecodeBrotli(input, max_output_bytes);
  return absl::InvalidArgumentError("unsupported content-coding \"" + std::string(coding) + "\"");
}

std::string_view StripWhitespace(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

// Lower-cased coding names in the order they were applied, without "identity" and empty items.
std::vector<std::string> ParseCodings(std::string_view content_encoding) {
  std::vector<std::string> codings;
  while (true) {
    size_t comma = content_encoding.find(',');
    std::string coding(StripWhitespace(content_encoding.substr(0, comma)));
    for (char& c : coding) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!coding.empty() && coding != "identity") codings.push_back(std::move(coding));
    if (comma == std::string_view::npos) return codings;
    content_encoding.remove_prefix(comma + 1);
  }
}

}  // namespace

bool IsIdentityEncoding(std::string_view content_encoding) {
  return ParseCodings(content_encoding).empty();
}

absl::StatusOr<DecodedContent> DecodeContent(std::string_view content_encoding,
                                             std::string_view body, size_t max_output_bytes) {
  std::vector<std::string> codings = ParseCodings(content_encoding);
  DecodedContent current;
  if (codings.empty()) {
    current.data.assign(body.substr(0, max_output_bytes));
    current.truncated = body.size() > max_output_bytes;
    return current;
  }
  std::string_view input = body;
  for (auto coding = codings.rbegin(); coding != codings.rend(); ++coding) {
    bool last = coding + 1 == codings.rend();
    size_t slack = last ? 0 : std::min(kIntermediateSlackBytes, SIZE_MAX - max_output_bytes);
    size_t stage_limit = max_output_bytes + slack;
    absl::StatusOr<DecodedContent> next = DecodeOne(*coding, input, stage_limit);
    if (!next.ok()) {
      std::string message(next.status().message());
      message += " (Content-Encoding \"" + std::string(content_encoding) + "\")";
      return absl::Status(next.status().code(), message);
    }
    // A stage whose input was cut short by truncation ends early as a consequence, which is
    // already reported as truncated.
    next->input_ended_early =
        (next->input_ended_early && !current.truncated) || current.input_ended_early;
    next->truncated = next->truncated || current.truncated;
    current = *std::move(next);
    input = current.data;
  }
  return current;
}

absl::StatusOr<DecodedContent> DecodeGzip(std::string_view input, size_t max_output_bytes) {
  return Inflate(input, ZlibFormat::kGzip, max_output_bytes);
}

absl::StatusOr<DecodedContent> DecodeDeflate(std::string_view input, size_t max_output_bytes) {
  // "deflate" means the zlib format (RFC 9110 section 8.4.1.2), but some servers send raw
  // deflate. A raw stream can begin with bytes that pass the zlib header check, so a failed zlib
  // attempt is retried as raw before its error is returned.
  if (!StartsWithZlibHeader(input))
    return Inflate(input, ZlibFormat::kRawDeflate, max_output_bytes);
  absl::StatusOr<DecodedContent> zlib = Inflate(input, ZlibFormat::kZlib, max_output_bytes);
  if (zlib.ok()) return zlib;
  absl::StatusOr<DecodedContent> raw = Inflate(input, ZlibFormat::kRawDeflate, max_output_bytes);
  return raw.ok() ? raw : zlib;
}

absl::StatusOr<DecodedContent> DecodeBrotli(std::string_view input, size_t max_output_bytes) {
  // NOTE: the brotli decoder allocates its ring buffer from the window size in the stream
  // header, up to 16 MiB per stream, independently of max_output_bytes.
  std::unique_ptr<BrotliDecoderState, decltype(&BrotliDecoderDestroyInstance)> decoder(
      BrotliDecoderCreateInstance(nullptr, nullptr, nullptr), &BrotliDecoderDestroyInstance);
  if (decoder == nullptr) return absl::ResourceExhaustedError("failed to create brotli decoder");

  DecodedContent result;
  std::vector<unsigned char> buffer(kChunkBytes);
  size_t available_in = input.size();
  const uint8_t* next_in = reinterpret_cast<const uint8_t*>(input.data());
  while (true) {
    size_t available_out = buffer.size();
    uint8_t* next_out = buffer.data();
    BrotliDecoderResult code = BrotliDecoderDecompressStream(decoder.get(), &available_in, &next_in,
                                                             &available_out, &next_out, nullptr);
    size_t produced = buffer.size() - available_out;
    if (!AppendCapped(buffer.data(), produced, max_output_bytes, result)) return result;

    switch (code) {
      case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
        continue;
      case BROTLI_DECODER_RESULT_SUCCESS:
        return result;  // trailing bytes after the stream are ignored
      case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
        result.input_ended_early = true;
        return result;
      case BROTLI_DECODER_RESULT_ERROR:
        break;
    }
    BrotliDecoderErrorCode error = BrotliDecoderGetErrorCode(decoder.get());
    return absl::InvalidArgumentError(std::string("invalid brotli data: ") +
                                      BrotliDecoderErrorString(error));
  }
}

}  // namespace jamjet::http
