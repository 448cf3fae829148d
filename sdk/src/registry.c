/* The per-process registry: creation, thread slots, the process record and
 * the fork handler. The layout is fixed by jamjet/registry_layout.h. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000 /* Linux 4.17; older kernels treat it as a hint */
#endif

_Static_assert(sizeof(struct jj_registry_header) <= JJ_REGISTRY_SLOTS_OFFSET, "header size");
_Static_assert(sizeof(struct jj_thread_slot) == 16, "slot size");
_Static_assert(sizeof(void*) == 8, "thread slots store 64-bit record addresses");

__thread struct jj_thread_slot* jj_sdk_thread_slot __attribute__((tls_model("initial-exec")));

/* Stand-in slot for a thread that has no registry slot. It tracks the
 * thread's current record so that scopes still nest, but it lies outside the
 * registry, so the agent cannot read it. */
static __thread struct jj_thread_slot unregistered_slot __attribute__((tls_model("initial-exec")));

/* Serialises registry creation and process-record writes, and is held across
 * fork so that the child never copies a half-written process record. */
static pthread_mutex_t registry_mutex = PTHREAD_MUTEX_INITIALIZER;
/* Written under registry_mutex; read without it through an acquire load. */
static struct jj_registry_header* registry;
static bool registry_unavailable;
static bool process_hooks_installed;
static pthread_key_t thread_exit_key;

static struct jj_thread_slot* registry_slots(struct jj_registry_header* header) {
  return (struct jj_thread_slot*)((unsigned char*)header + JJ_REGISTRY_SLOTS_OFFSET);
}

/* Returns the first slot of the thread's probe sequence that already carries
 * tid (left by a dead thread with the same id), else claims the first free
 * one. Returns NULL when all JJ_REGISTRY_SLOT_PROBES slots belong to others.
 * The BPF program looks up the first slot carrying tid in the same order. */
static struct jj_thread_slot* find_slot(struct jj_registry_header* header, __u32 tid) {
  struct jj_thread_slot* slots = registry_slots(header);
  for (__u32 i = 0; i < JJ_REGISTRY_SLOT_PROBES; ++i) {
    struct jj_thread_slot* slot = &slots[(tid + i) % JJ_REGISTRY_SLOT_COUNT];
    if (__atomic_load_n(&slot->tid, __ATOMIC_ACQUIRE) == tid) return slot;
  }
  for (__u32 i = 0; i < JJ_REGISTRY_SLOT_PROBES; ++i) {
    struct jj_thread_slot* slot = &slots[(tid + i) % JJ_REGISTRY_SLOT_COUNT];
    __u32 expected = 0;
    if (__atomic_compare_exchange_n(&slot->tid, &expected, tid, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
      return slot;
    }
  }
  return NULL;
}

static void free_slot(struct jj_thread_slot* slot) {
  __atomic_store_n(&slot->record, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&slot->tid, 0, __ATOMIC_RELEASE);
}

/* pthread key destructor: frees the thread's slot, including when the thread
 * exits with a scope open, so that no slot points into a dead stack. */
static void release_thread_slot(void* unused) {
  (void)unused;
  struct jj_thread_slot* slot = jj_sdk_thread_slot;
  jj_sdk_thread_slot = NULL;
  if (slot != NULL && slot != &unregistered_slot) free_slot(slot);
}

/* Maps the registry memfd at JJ_REGISTRY_FIXED_ADDRESS, or anywhere when that
 * range is taken. */
static void* map_registry(int fd) {
  void* mapping = mmap((void*)(uintptr_t)JJ_REGISTRY_FIXED_ADDRESS, JJ_REGISTRY_BYTES,
                       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
  if (mapping == MAP_FAILED) {
    mapping = mmap(NULL, JJ_REGISTRY_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  }
  return mapping;
}

static int create_registry_memfd(void) {
  int fd = memfd_create(JJ_REGISTRY_MEMFD_NAME, MFD_CLOEXEC);
  if (fd >= 0 && ftruncate(fd, JJ_REGISTRY_BYTES) != 0) {
    close(fd);
    fd = -1;
  }
  return fd;
}

static void before_fork(void);
static void after_fork_in_parent(void);
static void after_fork_in_child(void);

/* Creates the registry. Called with registry_mutex held. On failure, marks
 * the registry unavailable for the life of the process. */
static void create_registry_locked(void) {
  if (!process_hooks_installed) {
    if (pthread_key_create(&thread_exit_key, release_thread_slot) != 0 ||
        pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child) != 0) {
      registry_unavailable = true;
      return;
    }
    process_hooks_installed = true;
  }
  int fd = create_registry_memfd();
  void* mapping = fd >= 0 ? map_registry(fd) : MAP_FAILED;
  if (fd >= 0) close(fd); /* the mapping keeps the memfd alive */
  if (mapping == MAP_FAILED) {
    registry_unavailable = true;
    return;
  }

  /* A new memfd is zero-filled, so every slot starts free. */
  struct jj_registry_header* header = mapping;
  header->version = JJ_REGISTRY_VERSION;
  header->pid = (__u32)getpid();
  header->slot_count = JJ_REGISTRY_SLOT_COUNT;
  header->slots_offset = JJ_REGISTRY_SLOTS_OFFSET;
  __atomic_store_n(&header->magic, JJ_REGISTRY_MAGIC, __ATOMIC_RELEASE);
  __atomic_store_n(&registry, header, __ATOMIC_RELEASE);
}

/* Returns the registry, creating it on first use, or NULL when it cannot be
 * created. */
static struct jj_registry_header* get_registry(void) {
  struct jj_registry_header* header = __atomic_load_n(&registry, __ATOMIC_ACQUIRE);
  if (JJ_SDK_LIKELY(header != NULL)) return header;
  pthread_mutex_lock(&registry_mutex);
  if (registry == NULL && !registry_unavailable) create_registry_locked();
  header = registry;
  pthread_mutex_unlock(&registry_mutex);
  return header;
}

struct jj_thread_slot* jj_sdk_claim_thread_slot(void) {
  struct jj_registry_header* header = get_registry();
  struct jj_thread_slot* slot = NULL;
  if (header != NULL) {
    slot = find_slot(header, (__u32)gettid());
    if (slot == NULL) {
      __atomic_fetch_add(&header->slot_overflows, 1, __ATOMIC_RELAXED);
    } else if (pthread_setspecific(thread_exit_key, slot) != 0) {
      /* Without the destructor the slot would outlive the thread. */
      free_slot(slot);
      slot = NULL;
    }
  }
  if (slot == NULL) slot = &unregistered_slot;
  jj_sdk_publish_record(slot, NULL);
  jj_sdk_thread_slot = slot;
  return slot;
}

const struct jj_registry_header* jamjet_registry(void) {
  return __atomic_load_n(&registry, __ATOMIC_ACQUIRE);
}

/* Replaces the process record under the sequence lock: readers that see an
 * odd process_sequence, or a different one after copying, discard the copy. */
static void write_process_record(struct jj_registry_header* header, const jamjet_record* record) {
  __u32 sequence = header->process_sequence;
  __atomic_store_n(&header->process_sequence, sequence + 1, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  size_t used = 0;
  if (record != NULL) {
    struct jj_record_header record_header;
    memcpy(&record_header, record->bytes, sizeof record_header);
    used = JJ_RECORD_HEADER_BYTES + record_header.payload_bytes;
    memcpy(header->process_record, record->bytes, used);
  }
  memset(header->process_record + used, 0, JJ_RECORD_MAX_BYTES - used);
  header->process_record_set = record != NULL;
  __atomic_store_n(&header->process_sequence, sequence + 2, __ATOMIC_RELEASE);
}

jamjet_status jamjet_set_process_context(const jamjet_user_context* ctx) {
  jamjet_record record;
  struct jj_registry_header* header;
  if (ctx != NULL) {
    jamjet_status status = jj_sdk_encode(ctx, &record);
    if (status != JAMJET_OK) return status;
    header = get_registry();
  } else {
    /* Clearing never creates a registry. */
    header = __atomic_load_n(&registry, __ATOMIC_ACQUIRE);
  }
  if (header == NULL) return JAMJET_OK;
  pthread_mutex_lock(&registry_mutex);
  write_process_record(header, ctx != NULL ? &record : NULL);
  pthread_mutex_unlock(&registry_mutex);
  return JAMJET_OK;
}

static void before_fork(void) { pthread_mutex_lock(&registry_mutex); }

static void after_fork_in_parent(void) { pthread_mutex_unlock(&registry_mutex); }

static bool write_all(int fd, const void* bytes, size_t count) {
  const unsigned char* cursor = bytes;
  while (count > 0) {
    ssize_t written = write(fd, cursor, count);
    if (written <= 0) return false;
    cursor += written;
    count -= (size_t)written;
  }
  return true;
}

/* Replaces the mapping inherited from the parent, which is shared with it,
 * by a copy in a new memfd at the same address, so that record and slot
 * pointers stay valid. Returns false when the copy cannot be made. */
static bool remap_private_copy(struct jj_registry_header* header) {
  int fd = create_registry_memfd();
  if (fd < 0) return false;
  bool copied = write_all(fd, header, JJ_REGISTRY_BYTES);
  if (copied) {
    void* mapping =
        mmap(header, JJ_REGISTRY_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
    copied = mapping == (void*)header;
  }
  close(fd);
  return copied;
}

/* Gives the child its own registry. Only the forking thread exists in the
 * child, so every other slot is freed and the forking thread moves to the
 * slot that its new thread id selects, keeping its current record.
 * NOTE: pthread_atfork child handlers registered before this one run first,
 * and any SDK call they make still writes the parent's registry. */
static void after_fork_in_child(void) {
  pthread_mutex_unlock(&registry_mutex);
  struct jj_registry_header* header = registry;
  if (header == NULL) return;
  struct jj_thread_slot* old_slot = jj_sdk_thread_slot;
  const jamjet_record* inherited = old_slot != NULL ? jj_sdk_current_record(old_slot) : NULL;

  if (!remap_private_copy(header)) {
    /* The child must not write the parent's registry, so it gives up on
     * attribution. */
    munmap(header, JJ_REGISTRY_BYTES);
    registry = NULL;
    registry_unavailable = true;
    if (old_slot != NULL) {
      jj_sdk_publish_record(&unregistered_slot, inherited);
      jj_sdk_thread_slot = &unregistered_slot;
    }
    return;
  }

  header->pid = (__u32)getpid();
  header->slot_overflows = 0;
  memset(registry_slots(header), 0, JJ_REGISTRY_SLOT_COUNT * sizeof(struct jj_thread_slot));
  if (old_slot == NULL) return;
  struct jj_thread_slot* slot = find_slot(header, (__u32)gettid());
  if (old_slot == &unregistered_slot && pthread_setspecific(thread_exit_key, slot) != 0) {
    free_slot(slot);
    slot = &unregistered_slot;
  }
  jj_sdk_publish_record(slot, inherited);
  jj_sdk_thread_slot = slot;
}
