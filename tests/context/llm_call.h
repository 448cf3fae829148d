/* LLM API calls over TLS with libcurl, and the JSON lines that the user-context test programs
 * print about them. Each thread owns one llm_client, whose curl easy handle keeps its
 * connection alive between calls. */
#ifndef JAMJET_TESTS_CONTEXT_LLM_CALL_H_
#define JAMJET_TESTS_CONTEXT_LLM_CALL_H_

#include <stddef.h>

#include <curl/curl.h>

#include <jamjet/jamjet.h>

/* Where the calls go: the local test server. */
typedef struct llm_target {
  int port;           /* TCP port of the test server on 127.0.0.1 */
  const char* cacert; /* PEM file of the server's certificate */
  const char* api_key;
} llm_target;

typedef struct llm_client {
  CURL* curl;
  const llm_target* target;
  struct curl_slist* openai_headers;
  struct curl_slist* anthropic_headers;
  char* response;
  size_t response_bytes;
  size_t response_capacity;
} llm_client;

/* Maximum length of a response id, including the terminating NUL. */
#define LLM_RESPONSE_ID_BYTES 128

typedef enum { LLM_OPENAI, LLM_ANTHROPIC } llm_provider;

/* One call. body_extra is NULL or JSON members added to the request body, without braces,
 * such as "\"user\": \"u-1\"". */
typedef struct llm_request {
  llm_provider provider;
  int stream;
  const char* body_extra;
} llm_request;

/* Environment variable that holds the API key the programs send. */
#define LLM_API_KEY_VARIABLE "JAMJET_TEST_API_KEY"

/* Parses the options that every test program takes, --port and --cacert, and reads the API
 * key from LLM_API_KEY_VARIABLE. Prints an error and exits with status 2 when one is missing
 * or invalid. Returns the index of the first argument after the options. */
int llm_parse_target(int argc, char** argv, llm_target* target);

void llm_client_init(llm_client* client, const llm_target* target);
void llm_client_cleanup(llm_client* client);

/* Sends the request and stores the response id in response_id. Exits the process with
 * status 1, after printing the reason, when the call fails, so a test never mistakes a
 * failed call for a missing span. */
void llm_call(llm_client* client, const llm_request* request,
              char response_id[LLM_RESPONSE_ID_BYTES]);

/* Growable text buffer for building one JSON line. */
typedef struct json_buffer {
  char* text;
  size_t length;
  size_t capacity;
} json_buffer;

void json_init(json_buffer* buffer);
void json_free(json_buffer* buffer);
void json_append(json_buffer* buffer, const char* format, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends `text` as a JSON string literal, quotes included. */
void json_append_string(json_buffer* buffer, const char* text);

/* Appends the expected user of a call as a JSON object:
 * {"source": SOURCE, "user_id": ..., "user_email": ..., "attrs": {...}}.
 * ctx is NULL for source "none". */
void json_append_user(json_buffer* buffer, const char* source, const jamjet_user_context* ctx);

/* Prints one line {"event": "call", "pid", "tid", "comm", "provider", "stream",
 * "response_id", "label", "expected": EXPECTED_JSON} to stdout, atomically with respect to
 * other threads, and flushes it. */
void print_call_line(const llm_request* request, const char* response_id, const char* label,
                     const char* expected_json);

/* Prints a JSON line and flushes it, under the same lock as print_call_line. */
void print_line(const char* json_line);

/* Returns the thread's name as the kernel reports it (the comm of a span). */
void thread_comm(char comm[16]);

/* Exits with status 1 after printing `what` and the status, unless status is JAMJET_OK. */
void check_status(jamjet_status status, const char* what);

#endif /* JAMJET_TESTS_CONTEXT_LLM_CALL_H_ */
