// HTTP/1.1 messages as real clients and servers send them, shared by the parser tests. Bodies
// and Content-Length values match byte for byte.
#pragma once

#include <string_view>

namespace jamjet::http::test_util {

// curl 8.5 listing OpenAI models.
inline constexpr std::string_view kCurlGetModels =
    "GET /v1/models HTTP/1.1\r\n"
    "Host: api.openai.com\r\n"
    "User-Agent: curl/8.5.0\r\n"
    "Accept: */*\r\n"
    "Authorization: Bearer sk-test\r\n"
    "\r\n";

// OpenAI Python SDK (httpx) chat completion request.
inline constexpr std::string_view kHttpxChatRequest =
    "POST /v1/chat/completions HTTP/1.1\r\n"
    "Host: api.openai.com\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Connection: keep-alive\r\n"
    "Accept: application/json\r\n"
    "Content-Type: application/json\r\n"
    "User-Agent: OpenAI/Python 1.40.0\r\n"
    "X-Stainless-Lang: python\r\n"
    "Authorization: Bearer sk-test\r\n"
    "Content-Length: 89\r\n"
    "\r\n"
    "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}],"
    "\"stream\":false}";

// Body of kHttpxChatRequest.
inline constexpr std::string_view kHttpxChatRequestBody =
    "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}],"
    "\"stream\":false}";

// Node fetch (undici) Anthropic Messages request.
inline constexpr std::string_view kUndiciMessagesRequest =
    "POST /v1/messages HTTP/1.1\r\n"
    "host: api.anthropic.com\r\n"
    "connection: keep-alive\r\n"
    "content-type: application/json\r\n"
    "x-api-key: sk-ant-test\r\n"
    "anthropic-version: 2023-06-01\r\n"
    "accept: application/json\r\n"
    "accept-language: *\r\n"
    "sec-fetch-mode: cors\r\n"
    "user-agent: node\r\n"
    "accept-encoding: gzip, deflate\r\n"
    "content-length: 113\r\n"
    "\r\n"
    "{\"model\":\"claude-3-5-sonnet-20241022\",\"max_tokens\":256,\"stream\":true,\"messages"
    "\":[{\"role\":\"user\",\"content\":\"Hi\"}]}";

// Body of kUndiciMessagesRequest.
inline constexpr std::string_view kUndiciMessagesRequestBody =
    "{\"model\":\"claude-3-5-sonnet-20241022\",\"max_tokens\":256,\"stream\":true,\"messages"
    "\":[{\"role\":\"user\",\"content\":\"Hi\"}]}";

// OpenAI chat completion response with Content-Length.
inline constexpr std::string_view kOpenAiJsonResponse =
    "HTTP/1.1 200 OK\r\n"
    "Date: Mon, 10 Jun 2024 12:00:00 GMT\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 284\r\n"
    "Connection: keep-alive\r\n"
    "openai-processing-ms: 412\r\n"
    "x-request-id: req_7f3e\r\n"
    "\r\n"
    "{\"id\":\"chatcmpl-AB12\",\"object\":\"chat.completion\",\"created\":1718000000,\"model"
    "\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistan"
    "t\",\"content\":\"Hello! How can I help?\"},\"finish_reason\":\"stop\"}],\"usage\":{\"pr"
    "ompt_tokens\":9,\"completion_tokens\":7,\"total_tokens\":16}}";

// Body of kOpenAiJsonResponse.
inline constexpr std::string_view kOpenAiJsonResponseBody =
    "{\"id\":\"chatcmpl-AB12\",\"object\":\"chat.completion\",\"created\":1718000000,\"model"
    "\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistan"
    "t\",\"content\":\"Hello! How can I help?\"},\"finish_reason\":\"stop\"}],\"usage\":{\"pr"
    "ompt_tokens\":9,\"completion_tokens\":7,\"total_tokens\":16}}";

// Anthropic streaming response, one SSE event per chunk.
inline constexpr std::string_view kAnthropicSseResponse =
    "HTTP/1.1 200 OK\r\n"
    "Date: Mon, 10 Jun 2024 12:00:01 GMT\r\n"
    "Content-Type: text/event-stream; charset=utf-8\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Connection: keep-alive\r\n"
    "request-id: req_01abc\r\n"
    "\r\n"
    "a1\r\n"
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"model\":\"claude-3-5-"
    "sonnet-20241022\",\"usage\":{\"input_tokens\":8,\"output_tokens\":1}}}\n"
    "\n"
    "\r\n"
    "78\r\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"Hello\"}}\n"
    "\n"
    "\r\n"
    "74\r\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\""
    "output_tokens\":5}}\n"
    "\n"
    "\r\n"
    "33\r\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n"
    "\n"
    "\r\n"
    "0\r\n"
    "\r\n";

// De-chunked body of kAnthropicSseResponse.
inline constexpr std::string_view kAnthropicSseBody =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"model\":\"claude-3-5-"
    "sonnet-20241022\",\"usage\":{\"input_tokens\":8,\"output_tokens\":1}}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"Hello\"}}\n"
    "\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\""
    "output_tokens\":5}}\n"
    "\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n"
    "\n";

// OpenAI streaming response with a chunk extension and a trailer.
inline constexpr std::string_view kOpenAiSseResponse =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/event-stream; charset=utf-8\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Connection: keep-alive\r\n"
    "\r\n"
    "6e;name=\"first\"\r\n"
    "data: {\"id\":\"chatcmpl-C1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index"
    "\":0,\"delta\":{\"content\":\"Hi\"}}]}\n"
    "\n"
    "\r\n"
    "7c\r\n"
    "data: {\"id\":\"chatcmpl-C1\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usag"
    "e\":{\"prompt_tokens\":5,\"completion_tokens\":1}}\n"
    "\n"
    "\r\n"
    "e\r\n"
    "data: [DONE]\n"
    "\n"
    "\r\n"
    "0\r\n"
    "X-Trailer-Checksum: 9f2c\r\n"
    "\r\n";

// De-chunked body of kOpenAiSseResponse.
inline constexpr std::string_view kOpenAiSseBody =
    "data: {\"id\":\"chatcmpl-C1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index"
    "\":0,\"delta\":{\"content\":\"Hi\"}}]}\n"
    "\n"
    "data: {\"id\":\"chatcmpl-C1\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usag"
    "e\":{\"prompt_tokens\":5,\"completion_tokens\":1}}\n"
    "\n"
    "data: [DONE]\n"
    "\n";

}  // namespace jamjet::http::test_util
