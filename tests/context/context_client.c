/* Test client of the user-context end-to-end tests. It names users through the JamJet SDK
 * and makes real TLS LLM calls with libcurl to the local test server. For each call it
 * prints one JSON line with the response id and the user that the agent's span must report.
 *
 * Usage: JAMJET_TEST_API_KEY=KEY context_client --port PORT --cacert PEM MODE [ARGS]
 *   threads THREADS REQUESTS  THREADS threads, each serving REQUESTS requests: per-request
 *                             scopes, nested scopes, the process context, and a cleared one
 *   switch ROUNDS             one thread switches user between calls on one connection and
 *                             overwrites the scope memory right after each call
 *   fork                      calls before and after fork, in the parent and in two children
 *   wait                      sets its users, prints {"event": "ready"}, then waits for a
 *                             line on stdin before calling
 *   fallback [--decoy] [--registry-delay-ms MS] [--wait] [--call-at-ms MS,MS,...] [--fork]
 *                             maps memory at the registry's preferred address first, so the
 *                             SDK maps its registry elsewhere. At each time (ms after start,
 *                             default 0) it calls once with a scope and once without. With
 *                             --fork a child then calls with what it inherited.
 *   body                      calls whose request body names the end user, with and without
 *                             a context */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jamjet/jamjet.h>

#include "llm_call.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static llm_target target;

/* Storage for one user context: the strings that jamjet_user_context points at. */
typedef struct test_user {
  char user_id[96];
  char email[96];
  char plan[96];
  jamjet_attr attrs[3];
  jamjet_user_context ctx;
} test_user;

/* Fills `user` with attributes of all three types. A NULL email gives a user without one.
 * attr_count limits how many of the three attributes the context carries. */
static void make_user(test_user* user, const char* user_id, const char* email, const char* plan,
                      double seats, int beta, size_t attr_count) {
  memset(user, 0, sizeof *user);
  snprintf(user->user_id, sizeof user->user_id, "%s", user_id);
  if (email != NULL) snprintf(user->email, sizeof user->email, "%s", email);
  snprintf(user->plan, sizeof user->plan, "%s", plan);
  user->attrs[0] =
      (jamjet_attr){.key = "plan", .type = JAMJET_ATTR_STRING, .value.string = user->plan};
  user->attrs[1] = (jamjet_attr){.key = "seats", .type = JAMJET_ATTR_NUMBER, .value.number = seats};
  user->attrs[2] = (jamjet_attr){.key = "beta", .type = JAMJET_ATTR_BOOL, .value.boolean = beta};
  user->ctx = (jamjet_user_context){
      .user_id = user->user_id,
      .email = email != NULL ? user->email : NULL,
      .attrs = attr_count > 0 ? user->attrs : NULL,
      .attr_count = attr_count,
  };
}

/* Makes one call and prints its line with the expected user. ctx is NULL for source "none". */
static void call_expecting(llm_client* client, const llm_request* request, const char* label,
                           const char* source, const jamjet_user_context* ctx) {
  char response_id[LLM_RESPONSE_ID_BYTES];
  llm_call(client, request, response_id);
  json_buffer expected;
  json_init(&expected);
  json_append_user(&expected, source, ctx);
  print_call_line(request, response_id, label, expected.text);
  json_free(&expected);
}

static double elapsed_ms(const struct timespec* start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) * 1e3 + (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

static void sleep_ms(long milliseconds) {
  struct timespec duration = {.tv_sec = milliseconds / 1000,
                              .tv_nsec = (milliseconds % 1000) * 1000000L};
  while (nanosleep(&duration, &duration) != 0 && errno == EINTR) {
  }
}

/* Reads one line from stdin, the test's signal to go on. Exits when stdin closes first. */
static void wait_for_go(void) {
  char line[64];
  if (fgets(line, sizeof line, stdin) == NULL) {
    fprintf(stderr, "stdin closed before the go signal\n");
    exit(1);
  }
}

static void print_ready(void) {
  char line[128];
  snprintf(line, sizeof line, "{\"event\": \"ready\", \"pid\": %d}", (int)getpid());
  print_line(line);
}

/* threads mode. */

static test_user process_user;
static pthread_barrier_t start_barrier;
static int requests_per_thread;

/* Serves `requests_per_thread` requests on one keep-alive connection. The request number
 * selects the pattern: a single scope, nested scopes, no scope (the process context), or a
 * scope whose user has no email. */
static void* serve_requests(void* argument) {
  const int thread = (int)(intptr_t)argument;
  llm_client client;
  llm_client_init(&client, &target);
  pthread_barrier_wait(&start_barrier);
  for (int index = 0; index < requests_per_thread; ++index) {
    llm_request request = {
        .provider = (thread + index) % 2 == 0 ? LLM_OPENAI : LLM_ANTHROPIC,
        .stream = index % 3 == 2,
    };
    char user_id[96], email[96], plan[96];
    /* Some user ids and values carry non-ASCII text and JSON escapes. */
    snprintf(user_id, sizeof user_id, "%s-t%02d-r%02d", index % 4 == 0 ? "usér-ü" : "user", thread,
             index);
    snprintf(email, sizeof email, "t%02d.r%02d@example.com", thread, index);
    snprintf(plan, sizeof plan, thread % 3 == 0 ? "pro \"gold\" \\ %d" : "plan-%d", index);
    const double seats = thread % 2 == 0 ? thread * 1000.0 + index + 0.25 : -(double)index;
    const int beta = (thread + index) % 2;

    test_user outer, inner;
    jamjet_scope outer_scope, inner_scope;
    switch ((thread + index) % 4) {
      case 0:
        make_user(&outer, user_id, email, plan, seats, beta, 3);
        check_status(jamjet_scope_enter(&outer_scope, &outer.ctx), "jamjet_scope_enter");
        call_expecting(&client, &request, "scope", "scope", &outer.ctx);
        check_status(jamjet_scope_leave(&outer_scope), "jamjet_scope_leave");
        break;
      case 1: {
        make_user(&outer, user_id, email, plan, seats, beta, 3);
        char inner_id[112];
        snprintf(inner_id, sizeof inner_id, "inner-%s", user_id);
        make_user(&inner, inner_id, NULL, "inner-plan", index * 7.0, !beta, 2);
        check_status(jamjet_scope_enter(&outer_scope, &outer.ctx), "jamjet_scope_enter outer");
        check_status(jamjet_scope_enter(&inner_scope, &inner.ctx), "jamjet_scope_enter inner");
        call_expecting(&client, &request, "nested inner", "scope", &inner.ctx);
        check_status(jamjet_scope_leave(&inner_scope), "jamjet_scope_leave inner");
        request.provider = request.provider == LLM_OPENAI ? LLM_ANTHROPIC : LLM_OPENAI;
        call_expecting(&client, &request, "nested outer after inner", "scope", &outer.ctx);
        check_status(jamjet_scope_leave(&outer_scope), "jamjet_scope_leave outer");
        break;
      }
      case 2:
        call_expecting(&client, &request, "no scope", "process", &process_user.ctx);
        break;
      case 3:
        make_user(&outer, user_id, NULL, plan, seats, beta, 3);
        check_status(jamjet_scope_enter(&outer_scope, &outer.ctx), "jamjet_scope_enter");
        call_expecting(&client, &request, "scope without email", "scope", &outer.ctx);
        check_status(jamjet_scope_leave(&outer_scope), "jamjet_scope_leave");
        break;
    }
  }
  llm_client_cleanup(&client);
  return NULL;
}

static int run_threads(int thread_count, int requests) {
  requests_per_thread = requests;
  make_user(&process_user, "batch-job-7", "batch@example.com", "nightly", 7, 0, 3);
  check_status(jamjet_set_process_context(&process_user.ctx), "jamjet_set_process_context");

  llm_client client;
  llm_client_init(&client, &target);
  llm_request request = {.provider = LLM_OPENAI};
  call_expecting(&client, &request, "main before threads", "process", &process_user.ctx);

  pthread_t* threads = calloc((size_t)thread_count, sizeof *threads);
  pthread_barrier_init(&start_barrier, NULL, (unsigned)thread_count);
  for (int i = 0; i < thread_count; ++i) {
    if (pthread_create(&threads[i], NULL, serve_requests, (void*)(intptr_t)i) != 0) {
      fprintf(stderr, "pthread_create failed\n");
      return 1;
    }
  }
  for (int i = 0; i < thread_count; ++i) pthread_join(threads[i], NULL);
  free(threads);

  check_status(jamjet_set_process_context(NULL), "jamjet_set_process_context(NULL)");
  request.provider = LLM_ANTHROPIC;
  call_expecting(&client, &request, "main after clearing", "none", NULL);
  llm_client_cleanup(&client);
  return 0;
}

/* switch mode. */

/* Enters a scope on the stack, calls, leaves, and overwrites the scope before returning, so
 * consecutive calls reuse the same stack address for different users. */
static void call_in_stack_scope(llm_client* client, const llm_request* request,
                                const test_user* user, const char* label) {
  jamjet_scope scope;
  check_status(jamjet_scope_enter(&scope, &user->ctx), "jamjet_scope_enter");
  call_expecting(client, request, label, "scope", &user->ctx);
  check_status(jamjet_scope_leave(&scope), "jamjet_scope_leave");
  memset(&scope, 0xee, sizeof scope);
  __asm__ volatile("" : : "r"(&scope) : "memory"); /* keep the memset */
}

static int switch_rounds;

static void* switch_users(void* unused) {
  (void)unused;
  llm_client client;
  llm_client_init(&client, &target);
  for (int round = 0; round < switch_rounds; ++round) {
    char id_a[64], id_b[64];
    snprintf(id_a, sizeof id_a, "switch-A-%d", round);
    snprintf(id_b, sizeof id_b, "switch-B-%d", round);
    test_user a, b;
    make_user(&a, id_a, "a@example.com", "plan-a", round + 0.5, 1, 3);
    make_user(&b, id_b, NULL, "plan-b", -round - 0.5, 0, 3);
    llm_request request = {.provider = round % 2 == 0 ? LLM_OPENAI : LLM_ANTHROPIC,
                           .stream = round % 3 == 1};

    /* One heap scope reused for A then B, overwritten after each call and freed. */
    jamjet_scope* scope = malloc(sizeof *scope);
    check_status(jamjet_scope_enter(scope, &a.ctx), "jamjet_scope_enter A");
    call_expecting(&client, &request, "heap scope A", "scope", &a.ctx);
    check_status(jamjet_scope_leave(scope), "jamjet_scope_leave A");
    memset(scope, 0xa5, sizeof *scope);
    check_status(jamjet_scope_enter(scope, &b.ctx), "jamjet_scope_enter B");
    call_expecting(&client, &request, "heap scope B", "scope", &b.ctx);
    check_status(jamjet_scope_leave(scope), "jamjet_scope_leave B");
    memset(scope, 0x5a, sizeof *scope);
    free(scope);

    /* Stack scopes at the same address, one after the other. */
    call_in_stack_scope(&client, &request, &a, "stack scope A");
    call_in_stack_scope(&client, &request, &b, "stack scope B");

    /* The process record is rewritten in place. */
    check_status(jamjet_set_process_context(&a.ctx), "jamjet_set_process_context A");
    call_expecting(&client, &request, "process A", "process", &a.ctx);
    check_status(jamjet_set_process_context(&b.ctx), "jamjet_set_process_context B");
    call_expecting(&client, &request, "process B", "process", &b.ctx);
    check_status(jamjet_set_process_context(NULL), "jamjet_set_process_context(NULL)");
    call_expecting(&client, &request, "process cleared", "none", NULL);
  }
  llm_client_cleanup(&client);
  return NULL;
}

static int run_switch(int rounds) {
  switch_rounds = rounds;
  pthread_t thread;
  if (pthread_create(&thread, NULL, switch_users, NULL) != 0) return 1;
  pthread_join(thread, NULL);
  return 0;
}

/* fork mode. */

static test_user parent_process_user, parent_scope_user;

/* Runs in a child: calls under the scope it inherited, under a new scope, under the inherited
 * process context, and under a process context of its own, then exits. */
static void run_fork_child(const test_user* inherited_scope_user, jamjet_scope* inherited_scope,
                           const char* name) {
  llm_client client;
  llm_client_init(&client, &target);
  llm_request request = {.provider = LLM_ANTHROPIC};
  char label[96], id[64];
  snprintf(label, sizeof label, "%s: inherited scope", name);
  call_expecting(&client, &request, label, "scope", &inherited_scope_user->ctx);

  test_user child_user;
  snprintf(id, sizeof id, "%s-own-scope", name);
  make_user(&child_user, id, "child@example.com", "child-plan", getpid(), 1, 3);
  jamjet_scope scope;
  check_status(jamjet_scope_enter(&scope, &child_user.ctx), "child jamjet_scope_enter");
  snprintf(label, sizeof label, "%s: new scope", name);
  request.provider = LLM_OPENAI;
  call_expecting(&client, &request, label, "scope", &child_user.ctx);
  check_status(jamjet_scope_leave(&scope), "child jamjet_scope_leave");
  snprintf(label, sizeof label, "%s: inherited scope after its own", name);
  call_expecting(&client, &request, label, "scope", &inherited_scope_user->ctx);

  check_status(jamjet_scope_leave(inherited_scope), "child jamjet_scope_leave inherited");
  snprintf(label, sizeof label, "%s: inherited process context", name);
  call_expecting(&client, &request, label, "process", &parent_process_user.ctx);

  test_user child_process_user;
  snprintf(id, sizeof id, "%s-process", name);
  make_user(&child_process_user, id, NULL, "child-process", 1, 0, 1);
  check_status(jamjet_set_process_context(&child_process_user.ctx), "child process context");
  snprintf(label, sizeof label, "%s: own process context", name);
  call_expecting(&client, &request, label, "process", &child_process_user.ctx);
  fflush(stdout);
  /* No cleanup: the inherited curl state belongs to the parent. */
  _exit(0);
}

static pid_t fork_or_exit(void) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    exit(1);
  }
  return pid;
}

static int wait_for_child(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "child %d failed (wait status %d)\n", (int)pid, status);
    return 1;
  }
  return 0;
}

/* A second thread of the parent that forks with its own scope open: only that thread and its
 * record survive in the child. */
static void* fork_from_thread(void* result) {
  test_user thread_user;
  make_user(&thread_user, "forking-thread-user", "thread@example.com", "thread-plan", 3, 1, 3);
  jamjet_scope scope;
  check_status(jamjet_scope_enter(&scope, &thread_user.ctx), "thread jamjet_scope_enter");
  pid_t pid = fork_or_exit();
  if (pid == 0) run_fork_child(&thread_user, &scope, "child of thread");
  *(int*)result = wait_for_child(pid);
  check_status(jamjet_scope_leave(&scope), "thread jamjet_scope_leave");
  return NULL;
}

static int run_fork(void) {
  make_user(&parent_process_user, "parent-process", "ops@example.com", "fleet", 12, 0, 3);
  make_user(&parent_scope_user, "parent-scope", "parent@example.com", "parent-plan", 1.5, 1, 3);
  check_status(jamjet_set_process_context(&parent_process_user.ctx), "jamjet_set_process_context");
  llm_client client;
  llm_client_init(&client, &target);
  llm_request request = {.provider = LLM_OPENAI};

  jamjet_scope scope;
  check_status(jamjet_scope_enter(&scope, &parent_scope_user.ctx), "jamjet_scope_enter");
  call_expecting(&client, &request, "parent: scope before fork", "scope", &parent_scope_user.ctx);
  pid_t child = fork_or_exit();
  if (child == 0) run_fork_child(&parent_scope_user, &scope, "child of main");

  /* The parent calls while the child calls. */
  for (int i = 0; i < 3; ++i) {
    call_expecting(&client, &request, "parent: scope after fork", "scope", &parent_scope_user.ctx);
  }
  check_status(jamjet_scope_leave(&scope), "jamjet_scope_leave");
  call_expecting(&client, &request, "parent: process context after fork", "process",
                 &parent_process_user.ctx);
  int failed = wait_for_child(child);

  int thread_result = 1;
  pthread_t thread;
  if (pthread_create(&thread, NULL, fork_from_thread, &thread_result) != 0) return 1;
  pthread_join(thread, NULL);
  failed |= thread_result;

  /* The children's own process contexts must not have reached the parent's registry. */
  call_expecting(&client, &request, "parent: process context after children exited", "process",
                 &parent_process_user.ctx);
  llm_client_cleanup(&client);
  return failed;
}

/* wait mode. */

static test_user waiting_process_user, waiting_worker_user;
static pthread_barrier_t worker_barrier;

static void* waiting_worker(void* unused) {
  (void)unused;
  jamjet_scope scope;
  check_status(jamjet_scope_enter(&scope, &waiting_worker_user.ctx), "worker jamjet_scope_enter");
  pthread_barrier_wait(&worker_barrier); /* scope open */
  pthread_barrier_wait(&worker_barrier); /* go */
  llm_client client;
  llm_client_init(&client, &target);
  llm_request request = {.provider = LLM_ANTHROPIC};
  call_expecting(&client, &request, "worker: scope set before the agent", "scope",
                 &waiting_worker_user.ctx);
  check_status(jamjet_scope_leave(&scope), "worker jamjet_scope_leave");
  call_expecting(&client, &request, "worker: process context set before the agent", "process",
                 &waiting_process_user.ctx);
  llm_client_cleanup(&client);
  return NULL;
}

static int run_wait(void) {
  make_user(&waiting_process_user, "early-process", "early@example.com", "early", 5, 1, 3);
  make_user(&waiting_worker_user, "early-worker-scope", NULL, "worker", 6, 0, 3);
  test_user main_user;
  make_user(&main_user, "early-main-scope", "main@example.com", "main", 7, 1, 3);
  check_status(jamjet_set_process_context(&waiting_process_user.ctx), "jamjet_set_process_context");
  jamjet_scope scope;
  check_status(jamjet_scope_enter(&scope, &main_user.ctx), "jamjet_scope_enter");

  /* A connection opened and used before the agent starts, and reused after. */
  llm_client client;
  llm_client_init(&client, &target);
  llm_request request = {.provider = LLM_OPENAI};
  char response_id[LLM_RESPONSE_ID_BYTES];
  llm_call(&client, &request, response_id);
  char line[256];
  snprintf(line, sizeof line, "{\"event\": \"warmup\", \"response_id\": \"%s\"}", response_id);
  print_line(line);

  pthread_barrier_init(&worker_barrier, NULL, 2);
  pthread_t worker;
  if (pthread_create(&worker, NULL, waiting_worker, NULL) != 0) return 1;
  pthread_barrier_wait(&worker_barrier);
  print_ready();
  wait_for_go();
  pthread_barrier_wait(&worker_barrier);

  call_expecting(&client, &request, "main: scope set before the agent", "scope", &main_user.ctx);
  check_status(jamjet_scope_leave(&scope), "jamjet_scope_leave");
  call_expecting(&client, &request, "main: process context set before the agent", "process",
                 &waiting_process_user.ctx);
  pthread_join(worker, NULL);
  llm_client_cleanup(&client);
  return 0;
}

/* fallback mode. */

/* Writes a registry that names the user "decoy" at the preferred address. An agent that
 * reads there, instead of where this process's registry really is, reports that user. */
static void write_decoy_registry(void* mapping) {
  struct jj_registry_header* header = mapping;
  test_user decoy;
  make_user(&decoy, "decoy", "decoy@example.com", "decoy", 0, 0, 1);
  jamjet_record record;
  check_status(jamjet_record_encode(&decoy.ctx, &record), "jamjet_record_encode");
  memcpy(header->process_record, record.bytes, JJ_RECORD_MAX_BYTES);
  header->process_record_set = 1;
  header->version = JJ_REGISTRY_VERSION;
  header->pid = (__u32)getpid();
  header->slot_count = JJ_REGISTRY_SLOT_COUNT;
  header->slots_offset = JJ_REGISTRY_SLOTS_OFFSET;
  header->magic = JJ_REGISTRY_MAGIC;
}

/* Parses a comma-separated list of milliseconds into times, up to max_count of them.
 * Returns how many it parsed. */
static int parse_times(const char* text, long* times, int max_count) {
  int count = 0;
  char* end;
  while (count < max_count && *text != '\0') {
    times[count++] = strtol(text, &end, 10);
    if (*end != ',') break;
    text = end + 1;
  }
  return count;
}

static int run_fallback(int argc, char** argv) {
  int decoy = 0, wait = 0, fork_child = 0;
  long registry_delay_ms = 0;
  long call_times_ms[8] = {0};
  int call_count = 1;
  for (int i = 0; i < argc; ++i) {
    if (strcmp(argv[i], "--decoy") == 0) {
      decoy = 1;
    } else if (strcmp(argv[i], "--wait") == 0) {
      wait = 1;
    } else if (strcmp(argv[i], "--registry-delay-ms") == 0 && i + 1 < argc) {
      registry_delay_ms = atol(argv[++i]);
    } else if (strcmp(argv[i], "--fork") == 0) {
      fork_child = 1;
    } else if (strcmp(argv[i], "--call-at-ms") == 0 && i + 1 < argc) {
      call_count = parse_times(argv[++i], call_times_ms, 8);
    } else {
      fprintf(stderr, "fallback: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);

  void* blocker =
      mmap((void*)(uintptr_t)JJ_REGISTRY_FIXED_ADDRESS, JJ_REGISTRY_BYTES, PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (blocker != (void*)(uintptr_t)JJ_REGISTRY_FIXED_ADDRESS) {
    fprintf(stderr, "mapping the preferred registry address failed: %s\n", strerror(errno));
    return 1;
  }
  if (decoy) write_decoy_registry(blocker);
  sleep_ms(registry_delay_ms);

  test_user process, scoped;
  make_user(&process, "fallback-process", "fb@example.com", "fallback", 9, 1, 3);
  make_user(&scoped, "fallback-scope", NULL, "fallback-scope", 10, 0, 3);
  check_status(jamjet_set_process_context(&process.ctx), "jamjet_set_process_context");
  const struct jj_registry_header* registry = jamjet_registry();
  char line[160];
  snprintf(line, sizeof line,
           "{\"event\": \"registry\", \"address\": %llu, \"elapsed_ms\": %.1f, \"pid\": %d}",
           (unsigned long long)(uintptr_t)registry, elapsed_ms(&start), (int)getpid());
  print_line(line);
  if (registry == NULL || (uintptr_t)registry == JJ_REGISTRY_FIXED_ADDRESS) {
    fprintf(stderr, "the registry is not mapped away from the preferred address\n");
    return 1;
  }
  if (wait) {
    print_ready();
    wait_for_go();
  }

  llm_client client;
  llm_client_init(&client, &target);
  for (int i = 0; i < call_count; ++i) {
    long remaining_ms = call_times_ms[i] - (long)elapsed_ms(&start);
    if (remaining_ms > 0) sleep_ms(remaining_ms);
    char label[96];
    llm_request request = {.provider = LLM_OPENAI};
    jamjet_scope scope;
    check_status(jamjet_scope_enter(&scope, &scoped.ctx), "jamjet_scope_enter");
    snprintf(label, sizeof label, "scope at %.0f ms", elapsed_ms(&start));
    call_expecting(&client, &request, label, "scope", &scoped.ctx);
    check_status(jamjet_scope_leave(&scope), "jamjet_scope_leave");
    snprintf(label, sizeof label, "process at %.0f ms", elapsed_ms(&start));
    call_expecting(&client, &request, label, "process", &process.ctx);
  }
  int failed = 0;
  if (fork_child) {
    /* The child inherits the registry at the same address, away from the preferred one. */
    jamjet_scope scope;
    check_status(jamjet_scope_enter(&scope, &scoped.ctx), "jamjet_scope_enter");
    pid_t child = fork_or_exit();
    if (child == 0) {
      llm_client child_client;
      llm_client_init(&child_client, &target);
      llm_request request = {.provider = LLM_ANTHROPIC};
      call_expecting(&child_client, &request, "child: inherited scope", "scope", &scoped.ctx);
      check_status(jamjet_scope_leave(&scope), "child jamjet_scope_leave");
      call_expecting(&child_client, &request, "child: inherited process context", "process",
                     &process.ctx);
      fflush(stdout);
      _exit(0);
    }
    failed = wait_for_child(child);
    check_status(jamjet_scope_leave(&scope), "jamjet_scope_leave");
  }
  llm_client_cleanup(&client);
  return failed;
}

/* body mode. */

/* Makes a call whose body carries `body_extra` and prints the expected source "request_body"
 * with `user_id` from `field`. */
static void call_expecting_body_user(llm_client* client, const llm_request* request,
                                     const char* label, const char* user_id, const char* field) {
  char response_id[LLM_RESPONSE_ID_BYTES];
  llm_call(client, request, response_id);
  json_buffer expected;
  json_init(&expected);
  json_append(&expected, "{\"source\": \"request_body\", \"user_id\": ");
  json_append_string(&expected, user_id);
  json_append(&expected, ", \"source_field\": ");
  json_append_string(&expected, field);
  json_append(&expected, "}");
  print_call_line(request, response_id, label, expected.text);
  json_free(&expected);
}

static int run_body(void) {
  llm_client client;
  llm_client_init(&client, &target);
  llm_request openai = {.provider = LLM_OPENAI, .body_extra = "\"user\": \"u-body\""};
  llm_request anthropic = {.provider = LLM_ANTHROPIC,
                           .body_extra = "\"metadata\": {\"user_id\": \"u-body-anthropic\"}"};

  /* No registry yet: the process has never called the SDK. */
  call_expecting_body_user(&client, &openai, "openai user, no registry", "u-body", "user");

  /* A registry with no context in it. */
  test_user scoped;
  make_user(&scoped, "scope-user", "scope@example.com", "scope-plan", 2, 1, 3);
  jamjet_scope scope;
  check_status(jamjet_scope_enter(&scope, &scoped.ctx), "jamjet_scope_enter");
  check_status(jamjet_scope_leave(&scope), "jamjet_scope_leave");

  call_expecting_body_user(&client, &openai, "openai user", "u-body", "user");
  llm_request both = {
      .provider = LLM_OPENAI,
      .body_extra = "\"user\": \"u-body\", \"safety_identifier\": \"sid-body\"",
  };
  call_expecting_body_user(&client, &both, "openai safety_identifier and user", "sid-body",
                           "safety_identifier");
  call_expecting_body_user(&client, &anthropic, "anthropic metadata.user_id", "u-body-anthropic",
                           "metadata.user_id");
  anthropic.stream = 1;
  call_expecting_body_user(&client, &anthropic, "anthropic stream metadata.user_id",
                           "u-body-anthropic", "metadata.user_id");
  anthropic.stream = 0;
  llm_request empty = {.provider = LLM_OPENAI, .body_extra = "\"user\": \"\""};
  call_expecting(&client, &empty, "openai empty user", "none", NULL);

  check_status(jamjet_scope_enter(&scope, &scoped.ctx), "jamjet_scope_enter");
  call_expecting(&client, &openai, "scope beats openai user", "scope", &scoped.ctx);
  call_expecting(&client, &both, "scope beats safety_identifier", "scope", &scoped.ctx);
  call_expecting(&client, &anthropic, "scope beats metadata.user_id", "scope", &scoped.ctx);
  check_status(jamjet_scope_leave(&scope), "jamjet_scope_leave");

  test_user process;
  make_user(&process, "process-user", NULL, "process-plan", 3, 0, 3);
  check_status(jamjet_set_process_context(&process.ctx), "jamjet_set_process_context");
  call_expecting(&client, &openai, "process context beats openai user", "process", &process.ctx);
  call_expecting(&client, &anthropic, "process context beats metadata.user_id", "process",
                 &process.ctx);
  check_status(jamjet_set_process_context(NULL), "jamjet_set_process_context(NULL)");
  call_expecting_body_user(&client, &openai, "openai user after clearing", "u-body", "user");
  llm_client_cleanup(&client);
  return 0;
}

int main(int argc, char** argv) {
  int next = llm_parse_target(argc, argv, &target);
  if (next >= argc) {
    fprintf(stderr, "missing mode: threads, switch, fork, wait, fallback or body\n");
    return 2;
  }
  const char* mode = argv[next];
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int result;
  if (strcmp(mode, "threads") == 0 && next + 2 < argc) {
    result = run_threads(atoi(argv[next + 1]), atoi(argv[next + 2]));
  } else if (strcmp(mode, "switch") == 0 && next + 1 < argc) {
    result = run_switch(atoi(argv[next + 1]));
  } else if (strcmp(mode, "fork") == 0) {
    result = run_fork();
  } else if (strcmp(mode, "wait") == 0) {
    result = run_wait();
  } else if (strcmp(mode, "fallback") == 0) {
    result = run_fallback(argc - next - 1, argv + next + 1);
  } else if (strcmp(mode, "body") == 0) {
    result = run_body();
  } else {
    fprintf(stderr, "unknown mode or missing arguments: %s\n", mode);
    result = 2;
  }
  curl_global_cleanup();
  return result;
}
