#define _GNU_SOURCE
#include "llm_call.h"

#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define OPENAI_MODEL "gpt-4o-mini"
#define ANTHROPIC_MODEL "claude-3-5-haiku-latest"
#define ANTHROPIC_VERSION "2023-06-01"
/* Seconds after which a call fails, far above the server's response time. */
#define CALL_TIMEOUT_S 30L

static pthread_mutex_t output_mutex = PTHREAD_MUTEX_INITIALIZER;

static void* checked_realloc(void* pointer, size_t bytes) {
  void* result = realloc(pointer, bytes);
  if (result == NULL) {
    fprintf(stderr, "out of memory allocating %zu bytes\n", bytes);
    exit(1);
  }
  return result;
}

int llm_parse_target(int argc, char** argv, llm_target* target) {
  static const struct option options[] = {
      {"port", required_argument, NULL, 'p'},
      {"cacert", required_argument, NULL, 'c'},
      {NULL, 0, NULL, 0},
  };
  memset(target, 0, sizeof *target);
  int option;
  /* "+" stops at the first argument that is not an option, which the caller parses. */
  while ((option = getopt_long(argc, argv, "+", options, NULL)) != -1) {
    switch (option) {
      case 'p':
        target->port = atoi(optarg);
        break;
      case 'c':
        target->cacert = optarg;
        break;
      default:
        exit(2);
    }
  }
  /* The key comes from the environment, as real clients read OPENAI_API_KEY, so that it never
   * appears in the command line that the agent may report. */
  target->api_key = getenv(LLM_API_KEY_VARIABLE);
  if (target->port <= 0 || target->port > 65535 || target->cacert == NULL ||
      target->api_key == NULL) {
    fprintf(stderr, "usage: " LLM_API_KEY_VARIABLE "=KEY %s --port PORT --cacert PEM MODE [ARGS]\n",
            argv[0]);
    exit(2);
  }
  return optind;
}

static size_t collect_response(char* data, size_t size, size_t count, void* user_data) {
  llm_client* client = user_data;
  size_t bytes = size * count;
  if (client->response_bytes + bytes + 1 > client->response_capacity) {
    client->response_capacity = (client->response_bytes + bytes + 1) * 2;
    client->response = checked_realloc(client->response, client->response_capacity);
  }
  memcpy(client->response + client->response_bytes, data, bytes);
  client->response_bytes += bytes;
  client->response[client->response_bytes] = '\0';
  return bytes;
}

void llm_client_init(llm_client* client, const llm_target* target) {
  memset(client, 0, sizeof *client);
  client->target = target;
  client->curl = curl_easy_init();
  if (client->curl == NULL) {
    fprintf(stderr, "curl_easy_init failed\n");
    exit(1);
  }
  char header[512];
  client->openai_headers = curl_slist_append(NULL, "Content-Type: application/json");
  snprintf(header, sizeof header, "Authorization: Bearer %s", target->api_key);
  client->openai_headers = curl_slist_append(client->openai_headers, header);
  client->anthropic_headers = curl_slist_append(NULL, "Content-Type: application/json");
  snprintf(header, sizeof header, "x-api-key: %s", target->api_key);
  client->anthropic_headers = curl_slist_append(client->anthropic_headers, header);
  client->anthropic_headers =
      curl_slist_append(client->anthropic_headers, "anthropic-version: " ANTHROPIC_VERSION);
  /* No "Expect: 100-continue", which libcurl adds to larger POST bodies, so that every
   * request is one HTTP message with no interim response. */
  client->openai_headers = curl_slist_append(client->openai_headers, "Expect:");
  client->anthropic_headers = curl_slist_append(client->anthropic_headers, "Expect:");

  curl_easy_setopt(client->curl, CURLOPT_CAINFO, target->cacert);
  curl_easy_setopt(client->curl, CURLOPT_WRITEFUNCTION, collect_response);
  curl_easy_setopt(client->curl, CURLOPT_WRITEDATA, client);
  curl_easy_setopt(client->curl, CURLOPT_TIMEOUT, CALL_TIMEOUT_S);
  curl_easy_setopt(client->curl, CURLOPT_NOSIGNAL, 1L);
  /* Loopback only: never follow a redirect or use a proxy from the environment. */
  curl_easy_setopt(client->curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(client->curl, CURLOPT_PROXY, "");
}

void llm_client_cleanup(llm_client* client) {
  curl_easy_cleanup(client->curl);
  curl_slist_free_all(client->openai_headers);
  curl_slist_free_all(client->anthropic_headers);
  free(client->response);
  memset(client, 0, sizeof *client);
}

/* Copies the first "id" string of the response into response_id. Both providers put the
 * response id first: the top-level "id" of a JSON body or of the first OpenAI stream chunk,
 * and message.id of the Anthropic message_start event. */
static int find_response_id(const char* response, char response_id[LLM_RESPONSE_ID_BYTES]) {
  const char* start = strstr(response, "\"id\": \"");
  if (start == NULL) return 0;
  start += strlen("\"id\": \"");
  const char* end = strchr(start, '"');
  if (end == NULL || end - start >= LLM_RESPONSE_ID_BYTES) return 0;
  memcpy(response_id, start, (size_t)(end - start));
  response_id[end - start] = '\0';
  return 1;
}

void llm_call(llm_client* client, const llm_request* request,
              char response_id[LLM_RESPONSE_ID_BYTES]) {
  const int openai = request->provider == LLM_OPENAI;
  char url[256];
  snprintf(url, sizeof url, "https://127.0.0.1:%d%s", client->target->port,
           openai ? "/v1/chat/completions" : "/v1/messages");

  json_buffer body;
  json_init(&body);
  json_append(&body, "{\"model\": \"%s\", ", openai ? OPENAI_MODEL : ANTHROPIC_MODEL);
  if (!openai) json_append(&body, "\"max_tokens\": 256, ");
  json_append(&body, "\"messages\": [{\"role\": \"user\", \"content\": \"Say hello (tid %d).\"}]",
              (int)gettid());
  if (request->stream) json_append(&body, ", \"stream\": true");
  if (request->body_extra != NULL) json_append(&body, ", %s", request->body_extra);
  json_append(&body, "}");

  client->response_bytes = 0;
  curl_easy_setopt(client->curl, CURLOPT_URL, url);
  curl_easy_setopt(client->curl, CURLOPT_HTTPHEADER,
                   openai ? client->openai_headers : client->anthropic_headers);
  curl_easy_setopt(client->curl, CURLOPT_POSTFIELDS, body.text);
  curl_easy_setopt(client->curl, CURLOPT_POSTFIELDSIZE, (long)body.length);
  CURLcode result = curl_easy_perform(client->curl);
  long status = 0;
  curl_easy_getinfo(client->curl, CURLINFO_RESPONSE_CODE, &status);
  json_free(&body);
  if (result != CURLE_OK || status != 200) {
    fprintf(stderr, "call to %s failed: %s, HTTP status %ld\n", url, curl_easy_strerror(result),
            status);
    exit(1);
  }
  if (client->response == NULL || !find_response_id(client->response, response_id)) {
    fprintf(stderr, "the response of %s has no id: %.300s\n", url,
            client->response ? client->response : "");
    exit(1);
  }
}

void json_init(json_buffer* buffer) {
  buffer->capacity = 256;
  buffer->length = 0;
  buffer->text = checked_realloc(NULL, buffer->capacity);
  buffer->text[0] = '\0';
}

void json_free(json_buffer* buffer) {
  free(buffer->text);
  memset(buffer, 0, sizeof *buffer);
}

static void json_append_bytes(json_buffer* buffer, const char* bytes, size_t count) {
  if (buffer->length + count + 1 > buffer->capacity) {
    buffer->capacity = (buffer->length + count + 1) * 2;
    buffer->text = checked_realloc(buffer->text, buffer->capacity);
  }
  memcpy(buffer->text + buffer->length, bytes, count);
  buffer->length += count;
  buffer->text[buffer->length] = '\0';
}

void json_append(json_buffer* buffer, const char* format, ...) {
  char stack_text[512];
  va_list arguments;
  va_start(arguments, format);
  int count = vsnprintf(stack_text, sizeof stack_text, format, arguments);
  va_end(arguments);
  if (count < 0) return;
  if ((size_t)count < sizeof stack_text) {
    json_append_bytes(buffer, stack_text, (size_t)count);
    return;
  }
  char* heap_text = checked_realloc(NULL, (size_t)count + 1);
  va_start(arguments, format);
  vsnprintf(heap_text, (size_t)count + 1, format, arguments);
  va_end(arguments);
  json_append_bytes(buffer, heap_text, (size_t)count);
  free(heap_text);
}

void json_append_string(json_buffer* buffer, const char* text) {
  json_append_bytes(buffer, "\"", 1);
  for (const unsigned char* cursor = (const unsigned char*)text; *cursor != '\0'; ++cursor) {
    if (*cursor == '"' || *cursor == '\\') {
      char escaped[2] = {'\\', (char)*cursor};
      json_append_bytes(buffer, escaped, 2);
    } else if (*cursor < 0x20) {
      json_append(buffer, "\\u%04x", *cursor);
    } else {
      /* UTF-8 bytes pass through: JSON text is UTF-8. */
      json_append_bytes(buffer, (const char*)cursor, 1);
    }
  }
  json_append_bytes(buffer, "\"", 1);
}

void json_append_user(json_buffer* buffer, const char* source, const jamjet_user_context* ctx) {
  json_append(buffer, "{\"source\": ");
  json_append_string(buffer, source);
  if (ctx != NULL) {
    json_append(buffer, ", \"user_id\": ");
    json_append_string(buffer, ctx->user_id);
    if (ctx->email != NULL && ctx->email[0] != '\0') {
      json_append(buffer, ", \"user_email\": ");
      json_append_string(buffer, ctx->email);
    }
    json_append(buffer, ", \"attrs\": {");
    for (size_t i = 0; i < ctx->attr_count; ++i) {
      const jamjet_attr* attr = &ctx->attrs[i];
      if (i > 0) json_append(buffer, ", ");
      json_append_string(buffer, attr->key);
      json_append(buffer, ": ");
      switch (attr->type) {
        case JAMJET_ATTR_STRING:
          json_append_string(buffer, attr->value.string);
          break;
        case JAMJET_ATTR_NUMBER:
          /* %.17g round-trips every double. */
          json_append(buffer, "%.17g", attr->value.number);
          break;
        case JAMJET_ATTR_BOOL:
          json_append(buffer, "%s", attr->value.boolean ? "true" : "false");
          break;
      }
    }
    json_append(buffer, "}");
  }
  json_append(buffer, "}");
}

void thread_comm(char comm[16]) {
  memset(comm, 0, 16);
  if (prctl(PR_GET_NAME, comm) != 0) strcpy(comm, "?");
}

void print_line(const char* json_line) {
  pthread_mutex_lock(&output_mutex);
  fputs(json_line, stdout);
  fputc('\n', stdout);
  fflush(stdout);
  pthread_mutex_unlock(&output_mutex);
}

void print_call_line(const llm_request* request, const char* response_id, const char* label,
                     const char* expected_json) {
  char comm[16];
  thread_comm(comm);
  json_buffer line;
  json_init(&line);
  json_append(&line, "{\"event\": \"call\", \"pid\": %d, \"tid\": %d, \"comm\": ", (int)getpid(),
              (int)gettid());
  json_append_string(&line, comm);
  json_append(&line, ", \"provider\": \"%s\", \"stream\": %s, \"response_id\": ",
              request->provider == LLM_OPENAI ? "openai" : "anthropic",
              request->stream ? "true" : "false");
  json_append_string(&line, response_id);
  json_append(&line, ", \"label\": ");
  json_append_string(&line, label);
  json_append(&line, ", \"expected\": %s}", expected_json);
  print_line(line.text);
  json_free(&line);
}

void check_status(jamjet_status status, const char* what) {
  if (status == JAMJET_OK) return;
  fprintf(stderr, "%s failed: %s: %s\n", what, jamjet_status_string(status), jamjet_last_error());
  exit(1);
}
