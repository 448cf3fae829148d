/* Fuzz test program: corrupts its own user-context registry, on purpose and at random, while
 * worker threads make real TLS LLM calls that the agent traces.
 *
 * Usage: JAMJET_TEST_API_KEY=KEY registry_fuzz --port PORT --cacert PEM MODE [OPTIONS]
 *   phases [--seed N] [--workers N] [--phases N]
 *     Runs in phases. Before each phase the main thread applies one corruption to the
 *     registry header, process record or slot array. In the phase each worker makes two calls,
 *     one in a scope and one without, each after a corruption of its own slot or scope record.
 *     Before every call the worker computes what the span must report from the registry as it
 *     is at that moment. The span must carry the user of the record that the lookup reaches
 *     when that record is intact (byte for byte one that this program encoded), else no user.
 *     After the phase the main thread restores the registry from a snapshot. The first and
 *     last phases corrupt nothing.
 *   chaos [--seed N] [--workers N] [--duration-ms MS]
 *     While the workers call, the main thread keeps writing random bytes over random header
 *     fields, worker slot tids and free slots, each for up to 500 us before it restores them.
 *     Each span must report the worker's scope user, the process user or no user.
 *
 * Each call prints a line as llm_call.h describes, with "expected" and "reason" (the lookup's
 * outcome, named like the agent's counters: ok, no_registry, bad_header, foreign_registry,
 * torn, no_context, read_failed, bad_record, record_invalid), or with "expected_any" in chaos
 * mode. The first line is {"event": "seed", "seed": N}. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <jamjet/jamjet.h>

#include "llm_call.h"

#define MAX_WORKERS 16
/* Bytes of random data that record pointers may point into. */
#define GARBAGE_BYTES (16u << 20)

static llm_target target;
static struct jj_registry_header* registry;
static unsigned char* registry_snapshot;
static long page_bytes;

/* splitmix64: a small, seedable generator, so that a failing run can be repeated. */
typedef struct prng {
  uint64_t state;
} prng;

static uint64_t prng_next(prng* generator) {
  uint64_t z = (generator->state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static uint64_t prng_below(prng* generator, uint64_t bound) { return prng_next(generator) % bound; }

static void prng_fill(prng* generator, void* destination, size_t bytes) {
  unsigned char* cursor = destination;
  while (bytes > 0) {
    uint64_t value = prng_next(generator);
    size_t count = bytes < sizeof value ? bytes : sizeof value;
    memcpy(cursor, &value, count);
    cursor += count;
    bytes -= count;
  }
}

/* Users whose records the program encodes, and so may expect in a span. */
typedef struct known_user {
  char user_id[64];
  char plan[32];
  jamjet_attr attrs[3];
  jamjet_user_context ctx;
  jamjet_record record;
} known_user;

static void make_known_user(known_user* user, const char* user_id, const char* email,
                            double seats) {
  memset(user, 0, sizeof *user);
  snprintf(user->user_id, sizeof user->user_id, "%s", user_id);
  snprintf(user->plan, sizeof user->plan, "plan-%s", user_id);
  user->attrs[0] =
      (jamjet_attr){.key = "plan", .type = JAMJET_ATTR_STRING, .value.string = user->plan};
  user->attrs[1] = (jamjet_attr){.key = "seats", .type = JAMJET_ATTR_NUMBER, .value.number = seats};
  user->attrs[2] = (jamjet_attr){.key = "fuzz", .type = JAMJET_ATTR_BOOL, .value.boolean = 1};
  user->ctx = (jamjet_user_context){
      .user_id = user->user_id, .email = email, .attrs = user->attrs, .attr_count = 3};
  check_status(jamjet_record_encode(&user->ctx, &user->record), "jamjet_record_encode");
}

static size_t record_bytes(const jamjet_record* record) {
  struct jj_record_header header;
  memcpy(&header, record->bytes, sizeof header);
  return JJ_RECORD_HEADER_BYTES + header.payload_bytes;
}

/* The process context, another user that a corruption puts in the process record, and a
 * user whose record ends at the last byte before an unmapped page. */
static known_user process_user, other_user, page_end_user;
static const unsigned char* page_end_record;
/* A record header announcing 1016 payload bytes, 100 bytes before an unmapped page. */
static const unsigned char* truncated_record;
static uintptr_t unmapped_address;
static unsigned char* garbage;

/* Reads `bytes` at `address` of this process, or returns 0 when any of it is unmapped. */
static int safe_read(uint64_t address, void* out, size_t bytes) {
  struct iovec local = {.iov_base = out, .iov_len = bytes};
  struct iovec remote = {.iov_base = (void*)(uintptr_t)address, .iov_len = bytes};
  return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)bytes;
}

typedef struct outcome {
  const char* source;             /* "scope", "process" or "none" */
  const jamjet_user_context* ctx; /* NULL for "none" */
  const char* reason;
} outcome;

/* Classifies the record at `address` as the BPF program and the agent's decoder see it. */
static outcome classify_record(uint64_t address, const char* source, const known_user** users,
                               size_t user_count) {
  outcome none = {.source = "none", .ctx = NULL};
  struct jj_record_header header;
  if (!safe_read(address, &header, sizeof header)) return none.reason = "read_failed", none;
  size_t size = JJ_RECORD_HEADER_BYTES + header.payload_bytes;
  if (header.magic != JJ_RECORD_MAGIC || size > JJ_RECORD_MAX_BYTES) {
    return none.reason = "bad_record", none;
  }
  unsigned char bytes[JJ_RECORD_MAX_BYTES];
  if (!safe_read(address, bytes, size)) return none.reason = "read_failed", none;
  for (size_t i = 0; i < user_count; ++i) {
    if (users[i] == NULL) continue;
    const jamjet_record* record = &users[i]->record;
    if (record_bytes(record) == size && memcmp(record->bytes, bytes, size) == 0) {
      return (outcome){.source = source, .ctx = &users[i]->ctx, .reason = "ok"};
    }
  }
  /* Every corruption here that keeps the magic and a size within bounds leaves a record that
   * the SDK could not have written, which the decoder rejects. */
  return none.reason = "record_invalid", none;
}

/* Returns what the span of a call made now on thread `tid` must report, following the lookup
 * that jamjet/registry_layout.h defines. scope_user is the user of the thread's open scope,
 * or NULL. */
static outcome expected_outcome(uint32_t tid, const known_user* scope_user) {
  outcome none = {.source = "none", .ctx = NULL};
  const known_user* users[] = {scope_user, &process_user, &other_user, &page_end_user};
  const size_t user_count = sizeof users / sizeof users[0];
  const struct jj_registry_header* header = registry;
  if (header->magic != JJ_REGISTRY_MAGIC) return none.reason = "no_registry", none;
  if (header->version != JJ_REGISTRY_VERSION) return none.reason = "bad_header", none;
  if (header->pid != (uint32_t)getpid()) return none.reason = "foreign_registry", none;
  const struct jj_thread_slot* slots =
      (const struct jj_thread_slot*)((const unsigned char*)header + JJ_REGISTRY_SLOTS_OFFSET);
  for (uint32_t i = 0; i < JJ_REGISTRY_SLOT_PROBES; ++i) {
    const struct jj_thread_slot* slot = &slots[(tid + i) % JJ_REGISTRY_SLOT_COUNT];
    if (slot->tid != tid) continue;
    if (slot->record != 0) return classify_record(slot->record, "scope", users, user_count);
    break;
  }
  if (header->process_sequence & 1) return none.reason = "torn", none;
  if (header->process_record_set == 0) return none.reason = "no_context", none;
  return classify_record((uint64_t)(uintptr_t)header->process_record, "process", users, user_count);
}

/* Maps two pages and unmaps the second. Returns the first. */
static unsigned char* page_before_hole(void) {
  unsigned char* pages = mmap(NULL, (size_t)page_bytes * 2, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (pages == MAP_FAILED) {
    perror("mmap");
    exit(1);
  }
  munmap(pages + page_bytes, (size_t)page_bytes);
  return pages;
}

static void prepare_targets(prng* generator) {
  make_known_user(&process_user, "fuzz-process", "process@example.com", 1);
  make_known_user(&other_user, "fuzz-other", NULL, 2);
  make_known_user(&page_end_user, "fuzz-page-end", "edge@example.com", 3);

  unsigned char* page = page_before_hole();
  size_t size = record_bytes(&page_end_user.record);
  memcpy(page + page_bytes - size, page_end_user.record.bytes, size);
  page_end_record = page + page_bytes - size;

  page = page_before_hole();
  struct jj_record_header header = {.magic = JJ_RECORD_MAGIC, .payload_bytes = 1016};
  memcpy(page + page_bytes - 100, &header, sizeof header);
  truncated_record = page + page_bytes - 100;

  void* hole = mmap(NULL, (size_t)page_bytes, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(hole, (size_t)page_bytes);
  unmapped_address = (uintptr_t)hole;

  garbage = mmap(NULL, GARBAGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (garbage == MAP_FAILED) {
    perror("mmap");
    exit(1);
  }
  prng_fill(generator, garbage, GARBAGE_BYTES);
}

/* Worker state. */
typedef struct worker {
  int index;
  pthread_t thread;
  uint32_t tid;
  struct jj_thread_slot* slot; /* the slot the SDK claimed for this thread */
  prng generator;
  llm_client client;
} worker;

static worker workers[MAX_WORKERS];
static int worker_count = 4;
static pthread_barrier_t phase_barrier;
static volatile int phase_count;
static char global_label[128];

static int is_worker_tid(uint32_t tid) {
  for (int i = 0; i < worker_count; ++i) {
    if (workers[i].tid == tid) return 1;
  }
  return 0;
}

/* A worker's own slot can be free for a moment, while a corruption has zeroed its tid, so a
 * fake slot must never be one of them. */
static int is_worker_slot(const struct jj_thread_slot* slot) {
  for (int i = 0; i < worker_count; ++i) {
    if (workers[i].slot == slot) return 1;
  }
  return 0;
}

static struct jj_thread_slot* registry_slots(void) {
  return (struct jj_thread_slot*)((unsigned char*)registry + JJ_REGISTRY_SLOTS_OFFSET);
}

/* Returns a 32-bit value that is neither 0 nor any worker's thread id. */
static uint32_t foreign_tid(prng* generator) {
  uint32_t tid;
  do {
    tid = (uint32_t)prng_next(generator);
  } while (tid == 0 || is_worker_tid(tid));
  return tid;
}

/* Local corruptions: of the worker's own slot, or of its scope record. */
enum local_kind {
  LOCAL_NONE,
  LOCAL_SLOT_TID_ZERO,
  LOCAL_SLOT_TID_RANDOM,
  LOCAL_RECORD_RANDOM_ADDRESS,
  LOCAL_RECORD_UNMAPPED,
  LOCAL_RECORD_GARBAGE,
  LOCAL_RECORD_KERNEL,
  LOCAL_RECORD_PAGE_END_VALID,
  LOCAL_RECORD_PAGE_END_TRUNCATED,
  LOCAL_RECORD_PROCESS_RECORD,
  LOCAL_RECORD_OTHER_USER,
  LOCAL_FAKE_SLOT,
  LOCAL_SCOPE_MAGIC,
  LOCAL_SCOPE_PAYLOAD_BYTES,
  LOCAL_SCOPE_RANDOM_BYTES,
  LOCAL_KIND_COUNT,
};

/* What a local corruption changed, to undo it after the call. */
typedef struct local_undo {
  struct jj_thread_slot slot;
  struct jj_thread_slot* fake_slot;
  jamjet_record scope_record;
} local_undo;

static const uint64_t kernel_addresses[] = {
    0xffffffff81000000ull,
    0xffff888000000000ull,
    0x0000800000000000ull,
    0xdead000000000000ull,
    1,
    0xfff,
};
static const uint16_t payload_sizes[] = {0, 1, 1016, 65535};

/* Applies corruption `kind` and writes its description to label. Scope corruptions need an
 * open scope: without one they corrupt nothing. */
static void apply_local(worker* self, enum local_kind kind, jamjet_scope* scope, local_undo* undo,
                        char* label, size_t label_bytes) {
  prng* generator = &self->generator;
  struct jj_thread_slot* slot = self->slot;
  undo->slot = *slot;
  undo->fake_slot = NULL;
  if (scope != NULL) undo->scope_record = scope->record;
  uint64_t address;
  switch (kind) {
    case LOCAL_NONE:
      snprintf(label, label_bytes, "none");
      break;
    case LOCAL_SLOT_TID_ZERO:
      slot->tid = 0;
      snprintf(label, label_bytes, "own slot tid 0");
      break;
    case LOCAL_SLOT_TID_RANDOM:
      slot->tid = foreign_tid(generator);
      snprintf(label, label_bytes, "own slot tid %" PRIu32, slot->tid);
      break;
    case LOCAL_RECORD_RANDOM_ADDRESS:
      slot->record = prng_next(generator);
      snprintf(label, label_bytes, "record pointer random 0x%" PRIx64, (uint64_t)slot->record);
      break;
    case LOCAL_RECORD_UNMAPPED:
      slot->record = unmapped_address + prng_below(generator, (uint64_t)page_bytes);
      snprintf(label, label_bytes, "record pointer unmapped 0x%" PRIx64, (uint64_t)slot->record);
      break;
    case LOCAL_RECORD_GARBAGE:
      slot->record =
          (uintptr_t)garbage + prng_below(generator, GARBAGE_BYTES - JJ_RECORD_MAX_BYTES);
      snprintf(label, label_bytes, "record pointer into random bytes");
      break;
    case LOCAL_RECORD_KERNEL:
      address = kernel_addresses[prng_below(generator, sizeof kernel_addresses / sizeof(uint64_t))];
      slot->record = address;
      snprintf(label, label_bytes, "record pointer 0x%" PRIx64, address);
      break;
    case LOCAL_RECORD_PAGE_END_VALID:
      slot->record = (uintptr_t)page_end_record;
      snprintf(label, label_bytes, "record pointer to a valid record ending at an unmapped page");
      break;
    case LOCAL_RECORD_PAGE_END_TRUNCATED:
      slot->record = (uintptr_t)truncated_record;
      snprintf(label, label_bytes, "record pointer to a record running into an unmapped page");
      break;
    case LOCAL_RECORD_PROCESS_RECORD:
      slot->record = (uintptr_t)registry->process_record;
      snprintf(label, label_bytes, "record pointer to the registry's process record");
      break;
    case LOCAL_RECORD_OTHER_USER:
      slot->record = (uintptr_t)&other_user.record;
      snprintf(label, label_bytes, "record pointer to another valid record");
      break;
    case LOCAL_FAKE_SLOT: {
      /* A free slot later in this thread's probe sequence takes the thread's id, and the
       * thread's own slot gives it up, so the lookup reaches the fake slot. */
      struct jj_thread_slot* slots = registry_slots();
      struct jj_thread_slot* fake = NULL;
      for (uint32_t i = 1; i < JJ_REGISTRY_SLOT_PROBES && fake == NULL; ++i) {
        struct jj_thread_slot* candidate = &slots[(self->tid + i) % JJ_REGISTRY_SLOT_COUNT];
        if (candidate->tid == 0 && !is_worker_slot(candidate)) fake = candidate;
      }
      if (fake == NULL) {
        snprintf(label, label_bytes, "none (no free slot for a fake)");
        break;
      }
      undo->fake_slot = fake;
      int valid = (int)prng_below(generator, 2);
      fake->record = valid ? (uintptr_t)page_end_record : (uintptr_t)garbage;
      fake->tid = self->tid;
      slot->tid = 0;
      snprintf(label, label_bytes, "fake slot with %s", valid ? "a valid record" : "random bytes");
      break;
    }
    case LOCAL_SCOPE_MAGIC:
      if (scope == NULL) {
        snprintf(label, label_bytes, "none (no scope)");
        break;
      }
      scope->record.bytes[prng_below(generator, 4)] ^=
          (unsigned char)(1 + prng_below(generator, 255));
      snprintf(label, label_bytes, "scope record magic");
      break;
    case LOCAL_SCOPE_PAYLOAD_BYTES: {
      if (scope == NULL) {
        snprintf(label, label_bytes, "none (no scope)");
        break;
      }
      uint16_t size = payload_sizes[prng_below(generator, 4)];
      memcpy(scope->record.bytes + 4, &size, sizeof size);
      snprintf(label, label_bytes, "scope record payload_bytes %u", size);
      break;
    }
    case LOCAL_SCOPE_RANDOM_BYTES: {
      if (scope == NULL) {
        snprintf(label, label_bytes, "none (no scope)");
        break;
      }
      prng_fill(generator, scope->record.bytes, sizeof scope->record.bytes);
      uint32_t magic;
      memcpy(&magic, scope->record.bytes, sizeof magic);
      if (magic == JJ_RECORD_MAGIC) scope->record.bytes[0] ^= 1;
      snprintf(label, label_bytes, "scope record random bytes");
      break;
    }
    case LOCAL_KIND_COUNT:
      break;
  }
}

static void undo_local(worker* self, jamjet_scope* scope, const local_undo* undo) {
  if (undo->fake_slot != NULL) {
    undo->fake_slot->tid = 0;
    undo->fake_slot->record = 0;
  }
  *self->slot = undo->slot;
  if (scope != NULL) scope->record = undo->scope_record;
}

static void print_fuzz_call(const llm_request* request, const char* response_id, const char* label,
                            const outcome* expected) {
  json_buffer json;
  json_init(&json);
  json_append_user(&json, expected->source, expected->ctx);
  /* Insert the reason into the expected object, before its closing brace. */
  json.text[--json.length] = '\0';
  json_append(&json, ", \"reason\": \"%s\"}", expected->reason);
  print_call_line(request, response_id, label, json.text);
  json_free(&json);
}

/* Makes one call, in a scope or not, after a random local corruption. */
static void fuzz_call(worker* self, int phase, int scoped) {
  known_user user;
  jamjet_scope scope;
  char user_id[64];
  snprintf(user_id, sizeof user_id, "fuzz-w%d-p%d", self->index, phase);
  make_known_user(&user, user_id, phase % 2 ? "w@example.com" : NULL, phase);
  if (scoped) check_status(jamjet_scope_enter(&scope, &user.ctx), "jamjet_scope_enter");

  enum local_kind kind = prng_below(&self->generator, 4) == 0
                             ? LOCAL_NONE
                             : (enum local_kind)prng_below(&self->generator, LOCAL_KIND_COUNT);
  local_undo undo;
  char local_label[128], label[300];
  apply_local(self, kind, scoped ? &scope : NULL, &undo, local_label, sizeof local_label);
  outcome expected = expected_outcome(self->tid, scoped ? &user : NULL);

  llm_request request = {.provider = (phase + self->index) % 2 ? LLM_ANTHROPIC : LLM_OPENAI};
  char response_id[LLM_RESPONSE_ID_BYTES];
  llm_call(&self->client, &request, response_id);
  snprintf(label, sizeof label, "%s; %s; %s", global_label, scoped ? "scope" : "no scope",
           local_label);
  print_fuzz_call(&request, response_id, label, &expected);

  undo_local(self, scoped ? &scope : NULL, &undo);
  if (scoped) check_status(jamjet_scope_leave(&scope), "jamjet_scope_leave");
}

/* Claims the thread's slot through the SDK and finds it in the registry. */
static void claim_slot(worker* self) {
  known_user user;
  make_known_user(&user, "fuzz-claim", NULL, 0);
  jamjet_scope scope;
  check_status(jamjet_scope_enter(&scope, &user.ctx), "jamjet_scope_enter");
  check_status(jamjet_scope_leave(&scope), "jamjet_scope_leave");
  self->tid = (uint32_t)gettid();
  struct jj_thread_slot* slots = registry_slots();
  for (uint32_t i = 0; i < JJ_REGISTRY_SLOT_PROBES && self->slot == NULL; ++i) {
    struct jj_thread_slot* slot = &slots[(self->tid + i) % JJ_REGISTRY_SLOT_COUNT];
    if (slot->tid == self->tid) self->slot = slot;
  }
  if (self->slot == NULL) {
    fprintf(stderr, "worker %d (tid %u) has no registry slot\n", self->index, self->tid);
    exit(1);
  }
}

static void* run_phase_worker(void* argument) {
  worker* self = argument;
  llm_client_init(&self->client, &target);
  claim_slot(self);
  pthread_barrier_wait(&phase_barrier); /* slots claimed */
  for (int phase = 0; phase < phase_count; ++phase) {
    pthread_barrier_wait(&phase_barrier); /* corruption applied */
    fuzz_call(self, phase, 1);
    fuzz_call(self, phase, 0);
    pthread_barrier_wait(&phase_barrier); /* calls done */
  }
  llm_client_cleanup(&self->client);
  return NULL;
}

/* Global corruptions: of the registry header, the process record or the slot array. */
enum global_kind {
  GLOBAL_NONE,
  GLOBAL_MAGIC,
  GLOBAL_VERSION,
  GLOBAL_PID,
  GLOBAL_SEQUENCE_ODD,
  GLOBAL_PROCESS_MAGIC,
  GLOBAL_PROCESS_PAYLOAD_BYTES,
  GLOBAL_PROCESS_UNSET,
  GLOBAL_PROCESS_SET_GARBAGE,
  GLOBAL_PROCESS_OTHER_USER,
  GLOBAL_HEADER_RANDOM,
  GLOBAL_HEADER_TAIL_RANDOM,
  GLOBAL_SLOTS_RANDOM,
  GLOBAL_SLOTS_ZERO,
  GLOBAL_SLOT_LAYOUT_FIELDS,
  GLOBAL_REGISTRY_RANDOM,
  GLOBAL_KIND_COUNT,
};

/* After random bytes over the slot array, gives back any worker's id found in a slot that is
 * not that worker's own, so that no worker's lookup depends on another worker's writes. */
static void remove_stolen_tids(void) {
  for (int w = 0; w < worker_count; ++w) {
    for (uint32_t i = 0; i < JJ_REGISTRY_SLOT_PROBES; ++i) {
      struct jj_thread_slot* slot =
          &registry_slots()[(workers[w].tid + i) % JJ_REGISTRY_SLOT_COUNT];
      if (slot != workers[w].slot && slot->tid == workers[w].tid) slot->tid ^= 0x80000000u;
    }
  }
}

static void apply_global(enum global_kind kind, prng* generator) {
  struct jj_record_header* process_header = (struct jj_record_header*)registry->process_record;
  uint16_t size;
  switch (kind) {
    case GLOBAL_NONE:
      snprintf(global_label, sizeof global_label, "registry intact");
      break;
    case GLOBAL_MAGIC:
      registry->magic ^= (uint32_t)(1 + prng_below(generator, 0xfffffffe));
      snprintf(global_label, sizeof global_label, "header magic");
      break;
    case GLOBAL_VERSION:
      registry->version = 2 + (uint32_t)prng_below(generator, 0xfffffff0);
      snprintf(global_label, sizeof global_label, "header version %u", registry->version);
      break;
    case GLOBAL_PID:
      registry->pid =
          prng_below(generator, 2) ? (uint32_t)getppid() : (uint32_t)prng_next(generator);
      if (registry->pid == (uint32_t)getpid()) registry->pid ^= 1;
      snprintf(global_label, sizeof global_label, "header pid %u", registry->pid);
      break;
    case GLOBAL_SEQUENCE_ODD:
      registry->process_sequence |= 1;
      snprintf(global_label, sizeof global_label, "process_sequence stuck odd");
      break;
    case GLOBAL_PROCESS_MAGIC:
      process_header->magic ^= (uint32_t)(1 + prng_below(generator, 0xfffffffe));
      snprintf(global_label, sizeof global_label, "process record magic");
      break;
    case GLOBAL_PROCESS_PAYLOAD_BYTES:
      size = payload_sizes[prng_below(generator, 4)];
      process_header->payload_bytes = size;
      snprintf(global_label, sizeof global_label, "process record payload_bytes %u", size);
      break;
    case GLOBAL_PROCESS_UNSET:
      registry->process_record_set = 0;
      snprintf(global_label, sizeof global_label, "process_record_set 0");
      break;
    case GLOBAL_PROCESS_SET_GARBAGE:
      registry->process_record_set = 2 + (uint32_t)prng_below(generator, 0xfffffff0);
      snprintf(global_label, sizeof global_label, "process_record_set %u",
               registry->process_record_set);
      break;
    case GLOBAL_PROCESS_OTHER_USER:
      memcpy(registry->process_record, other_user.record.bytes, JJ_RECORD_MAX_BYTES);
      snprintf(global_label, sizeof global_label, "process record of another user");
      break;
    case GLOBAL_HEADER_RANDOM:
      prng_fill(generator, registry, JJ_REGISTRY_SLOTS_OFFSET);
      if (registry->magic == JJ_REGISTRY_MAGIC) registry->magic ^= 1;
      snprintf(global_label, sizeof global_label, "random header");
      break;
    case GLOBAL_HEADER_TAIL_RANDOM:
      /* Everything after magic, version and pid. */
      prng_fill(generator, &registry->slot_count,
                JJ_REGISTRY_SLOTS_OFFSET - offsetof(struct jj_registry_header, slot_count));
      snprintf(global_label, sizeof global_label, "random header after magic, version and pid");
      break;
    case GLOBAL_SLOTS_RANDOM:
      prng_fill(generator, registry_slots(),
                JJ_REGISTRY_SLOT_COUNT * sizeof(struct jj_thread_slot));
      remove_stolen_tids();
      snprintf(global_label, sizeof global_label, "random slot array");
      break;
    case GLOBAL_SLOTS_ZERO:
      memset(registry_slots(), 0, JJ_REGISTRY_SLOT_COUNT * sizeof(struct jj_thread_slot));
      snprintf(global_label, sizeof global_label, "zeroed slot array");
      break;
    case GLOBAL_SLOT_LAYOUT_FIELDS:
      /* The layout is fixed, so readers must not follow these fields. */
      registry->slot_count = (uint32_t)prng_next(generator);
      registry->slots_offset = prng_next(generator);
      snprintf(global_label, sizeof global_label, "slot_count %u, slots_offset 0x%" PRIx64,
               registry->slot_count, (uint64_t)registry->slots_offset);
      break;
    case GLOBAL_REGISTRY_RANDOM:
      prng_fill(generator, registry, JJ_REGISTRY_BYTES);
      if (registry->magic == JJ_REGISTRY_MAGIC) registry->magic ^= 1;
      snprintf(global_label, sizeof global_label, "random registry");
      break;
    case GLOBAL_KIND_COUNT:
      break;
  }
}

static void start_workers(void* (*body)(void*), uint64_t seed) {
  for (int i = 0; i < worker_count; ++i) {
    workers[i].index = i;
    workers[i].generator.state = seed ^ (0x1000193ull * (uint64_t)(i + 1));
    if (pthread_create(&workers[i].thread, NULL, body, &workers[i]) != 0) {
      fprintf(stderr, "pthread_create failed\n");
      exit(1);
    }
  }
}

static void join_workers(void) {
  for (int i = 0; i < worker_count; ++i) pthread_join(workers[i].thread, NULL);
}

static void set_process_user(void) {
  check_status(jamjet_set_process_context(&process_user.ctx), "jamjet_set_process_context");
  registry = (struct jj_registry_header*)jamjet_registry();
  if (registry == NULL) {
    fprintf(stderr, "the SDK created no registry\n");
    exit(1);
  }
}

static int run_phases(uint64_t seed, int phases) {
  prng generator = {.state = seed};
  prepare_targets(&generator);
  set_process_user();
  phase_count = phases;
  pthread_barrier_init(&phase_barrier, NULL, (unsigned)worker_count + 1);
  start_workers(run_phase_worker, seed);
  pthread_barrier_wait(&phase_barrier); /* slots claimed */

  registry_snapshot = malloc(JJ_REGISTRY_BYTES);
  memcpy(registry_snapshot, registry, JJ_REGISTRY_BYTES);
  for (int phase = 0; phase < phases; ++phase) {
    enum global_kind kind;
    if (phase == 0 || phase == phases - 1) {
      kind = GLOBAL_NONE;
    } else if (phase < GLOBAL_KIND_COUNT) {
      kind = (enum global_kind)phase; /* every kind once, then random ones */
    } else {
      kind = (enum global_kind)prng_below(&generator, GLOBAL_KIND_COUNT);
    }
    apply_global(kind, &generator);
    pthread_barrier_wait(&phase_barrier); /* corruption applied */
    pthread_barrier_wait(&phase_barrier); /* calls done */
    memcpy(registry, registry_snapshot, JJ_REGISTRY_BYTES);
  }
  join_workers();
  return 0;
}

/* chaos mode. */

static volatile int chaos_running = 1;

static void print_chaos_call(const llm_request* request, const char* response_id,
                             const known_user* scope_user) {
  json_buffer json;
  json_init(&json);
  json_append(&json, "{\"source\": \"any\", \"expected_any\": [");
  json_append_user(&json, "none", NULL);
  json_append(&json, ", ");
  json_append_user(&json, "process", &process_user.ctx);
  if (scope_user != NULL) {
    json_append(&json, ", ");
    json_append_user(&json, "scope", &scope_user->ctx);
  }
  json_append(&json, "]}");
  print_call_line(request, response_id, scope_user ? "chaos; scope" : "chaos; no scope", json.text);
  json_free(&json);
}

static void* run_chaos_worker(void* argument) {
  worker* self = argument;
  llm_client_init(&self->client, &target);
  claim_slot(self);
  pthread_barrier_wait(&phase_barrier);
  for (int call = 0; chaos_running; ++call) {
    known_user user;
    char user_id[64];
    snprintf(user_id, sizeof user_id, "chaos-w%d-c%d", self->index, call);
    make_known_user(&user, user_id, NULL, call);
    int scoped = call % 2 == 0;
    jamjet_scope scope;
    if (scoped) check_status(jamjet_scope_enter(&scope, &user.ctx), "jamjet_scope_enter");
    llm_request request = {.provider = call % 3 == 0 ? LLM_ANTHROPIC : LLM_OPENAI};
    char response_id[LLM_RESPONSE_ID_BYTES];
    llm_call(&self->client, &request, response_id);
    print_chaos_call(&request, response_id, scoped ? &user : NULL);
    if (scoped) check_status(jamjet_scope_leave(&scope), "jamjet_scope_leave");
  }
  llm_client_cleanup(&self->client);
  return NULL;
}

/* Corrupts one random place for a random time of up to 500 us, then restores it. The place is
 * a header field before the process record, a worker's slot tid, or a whole slot that no
 * worker owns. It is never a worker's record pointer, which the worker writes itself. It is
 * never the process record either, so that no span can show a garbled user. */
static void corrupt_for_a_moment(prng* generator) {
  unsigned char saved[64], bytes[64];
  unsigned char* place;
  size_t count = 1 + prng_below(generator, sizeof bytes);
  uint64_t choice = prng_below(generator, 3);
  if (choice == 0) {
    size_t fields = offsetof(struct jj_registry_header, process_record);
    size_t offset = prng_below(generator, fields);
    if (offset + count > fields) count = fields - offset;
    place = (unsigned char*)registry + offset;
  } else if (choice == 1) {
    place = (unsigned char*)&workers[prng_below(generator, (uint64_t)worker_count)].slot->tid;
    count = sizeof(uint32_t);
  } else {
    struct jj_thread_slot* slot;
    do {
      slot = &registry_slots()[prng_below(generator, JJ_REGISTRY_SLOT_COUNT)];
    } while (is_worker_slot(slot));
    place = (unsigned char*)slot;
    count = sizeof *slot;
  }
  prng_fill(generator, bytes, count);
  memcpy(saved, place, count);
  memcpy(place, bytes, count);
  struct timespec hold = {.tv_sec = 0, .tv_nsec = (long)prng_below(generator, 500000)};
  nanosleep(&hold, NULL);
  memcpy(place, saved, count);
  struct timespec gap = {.tv_sec = 0, .tv_nsec = (long)prng_below(generator, 200000)};
  nanosleep(&gap, NULL);
}

static int run_chaos(uint64_t seed, long duration_ms) {
  prng generator = {.state = seed};
  prepare_targets(&generator);
  set_process_user();
  pthread_barrier_init(&phase_barrier, NULL, (unsigned)worker_count + 1);
  start_workers(run_chaos_worker, seed);
  pthread_barrier_wait(&phase_barrier);

  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  uint64_t writes = 0;
  do {
    corrupt_for_a_moment(&generator);
    ++writes;
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 <
           duration_ms);
  chaos_running = 0;
  join_workers();
  char line[96];
  snprintf(line, sizeof line, "{\"event\": \"chaos\", \"writes\": %" PRIu64 "}", writes);
  print_line(line);
  return 0;
}

int main(int argc, char** argv) {
  int next = llm_parse_target(argc, argv, &target);
  if (next >= argc) {
    fprintf(stderr, "missing mode: phases or chaos\n");
    return 2;
  }
  const char* mode = argv[next];
  uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
  int phases = 40;
  long duration_ms = 2000;
  for (int i = next + 1; i < argc; ++i) {
    if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      seed = strtoull(argv[++i], NULL, 0);
    } else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
      worker_count = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--phases") == 0 && i + 1 < argc) {
      phases = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--duration-ms") == 0 && i + 1 < argc) {
      duration_ms = atol(argv[++i]);
    } else {
      fprintf(stderr, "unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (worker_count < 1 || worker_count > MAX_WORKERS || phases < 2) {
    fprintf(stderr, "--workers must be 1 to %d and --phases at least 2\n", MAX_WORKERS);
    return 2;
  }
  page_bytes = sysconf(_SC_PAGESIZE);
  char line[96];
  snprintf(line, sizeof line, "{\"event\": \"seed\", \"seed\": %" PRIu64 "}", seed);
  print_line(line);
  fprintf(stderr, "registry_fuzz seed %" PRIu64 "\n", seed);

  curl_global_init(CURL_GLOBAL_DEFAULT);
  int result;
  if (strcmp(mode, "phases") == 0) {
    result = run_phases(seed, phases);
  } else if (strcmp(mode, "chaos") == 0) {
    result = run_chaos(seed, duration_ms);
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    result = 2;
  }
  curl_global_cleanup();
  return result;
}
