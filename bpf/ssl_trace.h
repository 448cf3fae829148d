/* Structs and constants shared by ssl_trace.bpf.c and the agent.
 *
 * Every struct here crosses the ring buffer or a map, so it has fixed-width
 * fields and no implicit padding; the agent pins sizes with static_assert.
 */
#ifndef JAMJET_BPF_SSL_TRACE_H_
#define JAMJET_BPF_SSL_TRACE_H_

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Bumped whenever a struct below changes; the agent refuses a mismatched object. */
#define JJ_ABI_VERSION 2

/* Plaintext bytes carried by one data event. A power of two, so that the
 * verifier can bound copies with a mask. */
#define JJ_CHUNK_BYTES 16384
/* Upper bound on chunks for one SSL call, so one call carries at most 16 MiB.
 * The runtime limit is the rodata knob max_call_bytes. */
#define JJ_MAX_CHUNKS_PER_CALL 1024

#define JJ_COMM_BYTES 16

enum jj_event_kind {
  JJ_EVENT_DATA = 1,  /* plaintext of one SSL_read or SSL_write call, or a chunk of it */
  JJ_EVENT_CLOSE = 2, /* SSL_free: the connection is gone */
  JJ_EVENT_EXEC = 3,  /* a process called execve */
  JJ_EVENT_EXIT = 4,  /* a process (thread-group leader) exited */
  JJ_EVENT_USER_CONTEXT = 5, /* the calling thread's user context at an SSL_write */
};

/* Origin of the user context of an SSL_write. */
enum jj_context_source {
  JJ_CONTEXT_NONE = 0,    /* the registry has no context for this thread or process */
  JJ_CONTEXT_SCOPE = 1,   /* the thread's per-request scope */
  JJ_CONTEXT_PROCESS = 2, /* the process-level context */
};

/* Outcome of reading the registry; anything but OK means the call gets no user. */
enum jj_context_status {
  JJ_CONTEXT_OK = 0,
  JJ_CONTEXT_BAD_HEADER = 1,       /* wrong magic or version */
  JJ_CONTEXT_FOREIGN_REGISTRY = 2, /* header names another pid (an inherited mapping) */
  JJ_CONTEXT_READ_FAILED = 3,      /* a record pointer led to unreadable memory */
  JJ_CONTEXT_TORN = 4,             /* the process record kept changing while read */
  JJ_CONTEXT_BAD_RECORD = 5,       /* record magic or length invalid */
};

enum jj_direction {
  JJ_DIRECTION_WRITE = 0, /* SSL_write, SSL_write_ex: bytes the process sends */
  JJ_DIRECTION_READ = 1,  /* SSL_read, SSL_read_ex: bytes the process receives */
};

/* Causes of lost or cut data, counted per CPU in the drop_counters map. */
enum jj_drop_cause {
  JJ_DROP_RINGBUF_FULL = 0,   /* bpf_ringbuf_output failed: an event was lost */
  JJ_DROP_READ_FAILED = 1,    /* bpf_probe_read_user of the plaintext failed */
  JJ_DROP_ACTIVE_FULL = 2,    /* no room to remember an SSL call between entry and return */
  JJ_DROP_CALL_TRUNCATED = 3, /* a call moved more than max_call_bytes; the rest was not copied */
  JJ_DROP_CAUSE_COUNT = 4,
};

struct jj_event_header {
  __u32 kind;         /* enum jj_event_kind */
  __u32 pid;          /* thread-group id, as user space calls a pid */
  __u32 tid;          /* thread id */
  __u32 abi_version;  /* JJ_ABI_VERSION */
  __u64 timestamp_ns; /* bpf_ktime_get_ns (CLOCK_MONOTONIC) when the event was made */
};

/* Peer of the socket under an SSL connection, found from the read or write
 * system call nested inside the SSL call. Zero family means unknown. */
struct jj_peer {
  __u16 family; /* AF_INET or AF_INET6, 0 when unknown */
  __u16 port;   /* host byte order */
  __u32 reserved;
  __u8 address[16]; /* IPv4 in the first 4 bytes, network order */
};

struct jj_data_event {
  struct jj_event_header header;
  __u64 ssl;           /* SSL pointer in the process; with pid, the connection key */
  __u64 call_start_ns; /* entry time of the SSL call */
  __u64 stream_offset; /* bytes of this direction and connection seen before this call */
  __u32 call_bytes;    /* bytes the call moved; more than captured when truncated */
  __u32 chunk_offset;  /* where data[] starts within the call */
  __u32 chunk_bytes;   /* valid bytes in data[] */
  __u32 direction;     /* enum jj_direction */
  struct jj_peer peer;
  char comm[JJ_COMM_BYTES];
  __u8 data[JJ_CHUNK_BYTES];
};

struct jj_close_event {
  struct jj_event_header header;
  __u64 ssl;
};

#define JJ_CONTEXT_RECORD_MAX_BYTES 1024 /* JJ_RECORD_MAX_BYTES of the registry layout */

struct jj_context_event {
  struct jj_event_header header; /* kind JJ_EVENT_USER_CONTEXT */
  __u64 ssl;
  __u64 call_start_ns; /* matches call_start_ns of the data events of the same SSL_write */
  __u32 source;        /* enum jj_context_source */
  __u32 status;        /* enum jj_context_status */
  __u32 record_bytes;  /* valid bytes in record[] */
  __u32 reserved;
  __u8 record[JJ_CONTEXT_RECORD_MAX_BYTES];
};

struct jj_process_event {
  struct jj_event_header header; /* kind JJ_EVENT_EXEC or JJ_EVENT_EXIT */
  char comm[JJ_COMM_BYTES];
};

#endif /* JAMJET_BPF_SSL_TRACE_H_ */
