/* Layout of the per-process user-context registry: the contract between the
 * JamJet SDK, which writes it, and the agent's BPF program, which reads it at
 * each SSL_write.
 *
 * A process creates one registry: a memfd named "jamjet-registry" mapped
 * MAP_SHARED, preferably at JJ_REGISTRY_FIXED_ADDRESS so that the BPF program
 * finds it with no help from user space. When that address is taken, the
 * mapping goes anywhere and the agent finds it through /proc/PID/maps.
 *
 * Consistency rules:
 * - A thread slot is written only by its owning thread and read by the BPF
 *   program on that same thread (inside SSL_write), so it needs no lock: the
 *   record pointer is stored with one aligned 8-byte write.
 * - The process record is written by any thread and read from every thread,
 *   so it sits behind a sequence lock: the writer makes process_sequence odd,
 *   writes the record, then makes it even. A reader that sees an odd value,
 *   or a different value after copying, retries or gives up.
 * - The agent trusts nothing here: every length is bounded on read and a bad
 *   record only costs the call its user.
 *
 * Process and thread ids are those of the process's own pid namespace (getpid
 * and gettid inside a container); the BPF program translates to them.
 *
 * All integers are little-endian and naturally aligned. */
#ifndef JAMJET_REGISTRY_LAYOUT_H_
#define JAMJET_REGISTRY_LAYOUT_H_

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define JJ_REGISTRY_MAGIC 0x4a4a5247u /* "GRJJ" in memory order */
#define JJ_REGISTRY_VERSION 1u
#define JJ_REGISTRY_MEMFD_NAME "jamjet-registry"
/* Preferred address of the mapping: far from the heap, the mmap area, the
 * stack and AddressSanitizer's shadow on x86-64 and on arm64 with 48-bit
 * virtual addresses. */
#define JJ_REGISTRY_FIXED_ADDRESS 0x3a5a00000000ull

/* Thread slots: a thread with id TID uses the first slot of
 * (TID + i) % JJ_REGISTRY_SLOT_COUNT, 0 <= i < JJ_REGISTRY_SLOT_PROBES,
 * whose tid is TID. */
#define JJ_REGISTRY_SLOT_COUNT 4096u
#define JJ_REGISTRY_SLOT_PROBES 16u

/* An encoded user context, at most JJ_RECORD_MAX_BYTES long in all. */
#define JJ_RECORD_MAGIC 0x52555a4au /* "JZUR" */
#define JJ_RECORD_MAX_BYTES 1024u
#define JJ_RECORD_HEADER_BYTES 8u

/* Limits enforced by the SDK when it encodes a record, and by the agent when
 * it decodes one. */
#define JJ_USER_ID_MAX_BYTES 128u
#define JJ_EMAIL_MAX_BYTES 254u
#define JJ_ATTR_MAX_COUNT 16u
#define JJ_ATTR_KEY_MAX_BYTES 32u
#define JJ_ATTR_STRING_MAX_BYTES 128u

/* Attribute value types inside a record. */
enum jj_attr_type {
  JJ_ATTR_STRING = 1, /* u16 length, then bytes */
  JJ_ATTR_NUMBER = 2, /* IEEE 754 double, 8 bytes */
  JJ_ATTR_BOOL = 3,   /* one byte, 0 or 1 */
};

/* Record encoding after its 8-byte header:
 *   u16 user_id length, user_id bytes (UTF-8, 1..JJ_USER_ID_MAX_BYTES)
 *   u16 email length, email bytes (0..JJ_EMAIL_MAX_BYTES)
 *   u8 attribute count (0..JJ_ATTR_MAX_COUNT), then per attribute:
 *     u8 key length, key bytes ([A-Za-z_][A-Za-z0-9_.-]*, 1..JJ_ATTR_KEY_MAX_BYTES)
 *     u8 type (enum jj_attr_type), value as the enum describes
 * Lengths are unaligned little-endian. */
struct jj_record_header {
  __u32 magic;          /* JJ_RECORD_MAGIC */
  __u16 payload_bytes;  /* bytes after this header, at most JJ_RECORD_MAX_BYTES - 8 */
  __u16 reserved;
};

struct jj_thread_slot {
  __u32 tid;      /* owning thread id; 0 when free */
  __u32 reserved;
  __u64 record;   /* address of the thread's current record in this process; 0 when none */
};

struct jj_registry_header {
  __u32 magic;            /* JJ_REGISTRY_MAGIC */
  __u32 version;          /* JJ_REGISTRY_VERSION */
  __u32 pid;              /* process that owns the registry; a forked child makes its own */
  __u32 slot_count;       /* JJ_REGISTRY_SLOT_COUNT */
  __u32 process_sequence; /* odd while the process record is being written */
  __u32 process_record_set; /* 1 when process_record holds a record */
  __u64 slots_offset;     /* byte offset of the slot array from the header */
  __u64 slot_overflows;   /* threads that found no free slot (their calls get no user) */
  __u8 reserved[24];
  __u8 process_record[JJ_RECORD_MAX_BYTES]; /* record header and payload */
};

/* Bytes of the whole mapping. */
#define JJ_REGISTRY_SLOTS_OFFSET 4096u
#define JJ_REGISTRY_BYTES \
  (JJ_REGISTRY_SLOTS_OFFSET + JJ_REGISTRY_SLOT_COUNT * sizeof(struct jj_thread_slot))

#endif /* JAMJET_REGISTRY_LAYOUT_H_ */
