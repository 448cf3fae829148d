// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Uprobes on OpenSSL's SSL_write, SSL_write_ex, SSL_read and SSL_read_ex that
 * copy each call's plaintext into a ring buffer, plus process exec and exit
 * notifications. Structs shared with the agent live in ssl_trace.h. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "jamjet/registry_layout.h"
#include "ssl_trace.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000

/* Set by the agent before load. */
const volatile __u32 targ_self_pid = 0;           /* the agent's own pid, never traced */
const volatile __u32 max_call_bytes = 8u << 20;   /* plaintext copied per SSL call */
const volatile bool capture_peer = true;          /* resolve the socket peer via sys_enter */

/* State of an SSL call between its entry probe and its return probe. */
struct active_call {
  __u64 ssl;
  __u64 buffer;       /* user pointer to the plaintext */
  __u64 length_out;   /* size_t* written by the _ex variants; 0 for SSL_read/SSL_write */
  __u64 start_ns;
  __u32 direction;
  __u32 reserved;
  struct jj_peer peer;
};

struct stream_key {
  __u64 ssl;
  __u32 pid;
  __u32 direction;
};

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 32 << 20); /* resized by the agent before load */
} events SEC(".maps");

/* Keyed by pid_tgid: one SSL call can be under way per thread. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64);
  __type(value, struct active_call);
} active_calls SEC(".maps");

/* Bytes seen so far per connection and direction, so the agent can tell a lost
 * event from a short call. LRU: connections that vanish without SSL_free age out. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct stream_key);
  __type(value, __u64);
} stream_offsets SEC(".maps");

/* Registries the SDK could not map at JJ_REGISTRY_FIXED_ADDRESS, by pid; the
 * agent fills it from /proc/PID/maps. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, __u32);
  __type(value, __u64);
} registry_addresses SEC(".maps");

/* One event-sized scratch buffer per CPU: too large for the 512-byte BPF stack. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct jj_data_event);
} scratch_event SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, JJ_DROP_CAUSE_COUNT);
  __type(key, __u32);
  __type(value, __u64);
} drop_counters SEC(".maps");

static __always_inline void count_drop(__u32 cause) {
  __u64* counter = bpf_map_lookup_elem(&drop_counters, &cause);
  if (counter) *counter += 1;
}

static __always_inline bool is_traced(__u64 pid_tgid) {
  return (__u32)(pid_tgid >> 32) != targ_self_pid;
}

/* Returns the call's start time, or 0 when the call is not traced. */
static __always_inline __u64 enter_call(__u64 ssl, __u64 buffer, __u64 length_out,
                                        __u32 direction) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  if (!is_traced(pid_tgid)) return 0;
  struct active_call call = {
      .ssl = ssl,
      .buffer = buffer,
      .length_out = length_out,
      .start_ns = bpf_ktime_get_ns(),
      .direction = direction,
  };
  if (bpf_map_update_elem(&active_calls, &pid_tgid, &call, BPF_ANY) != 0) {
    count_drop(JJ_DROP_ACTIVE_FULL);
    return 0;
  }
  return call.start_ns;
}

struct chunk_context {
  struct jj_data_event* event;
  __u64 buffer;
  __u32 captured;
};

static long emit_chunk(__u64 index, struct chunk_context* ctx) {
  struct jj_data_event* event = ctx->event;
  __u64 offset = index * JJ_CHUNK_BYTES;
  if (offset >= ctx->captured) return 1;
  __u64 size = ctx->captured - offset;
  if (size > JJ_CHUNK_BYTES) size = JJ_CHUNK_BYTES;
  /* clang drops a plain mask after the bound above; the asm keeps one the verifier can see. */
  asm volatile("%[size] &= %[mask]" : [size] "+r"(size) : [mask] "i"(JJ_CHUNK_BYTES * 2 - 1));
  if (size > JJ_CHUNK_BYTES) return 1;

  event->chunk_offset = offset;
  event->chunk_bytes = size;
  if (bpf_probe_read_user(event->data, size, (const void*)(ctx->buffer + offset)) != 0) {
    count_drop(JJ_DROP_READ_FAILED);
    event->chunk_bytes = 0;
    size = 0;
  }
  if (bpf_ringbuf_output(&events, event, offsetof(struct jj_data_event, data) + size, 0) != 0)
    count_drop(JJ_DROP_RINGBUF_FULL);
  return 0;
}

static __always_inline void return_call(long ret) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  struct active_call* call = bpf_map_lookup_elem(&active_calls, &pid_tgid);
  if (!call) return;

  __u64 moved = 0;
  if (call->length_out) {
    /* SSL_read_ex and SSL_write_ex return 1 on success and store the count. */
    if (ret == 1) bpf_probe_read_user(&moved, sizeof(moved), (const void*)call->length_out);
  } else {
    /* SSL_read and SSL_write return int: only the low 32 bits of the register count. */
    int result = (int)ret;
    if (result > 0) moved = result;
  }
  if (moved == 0 || moved > 0xffffffffULL) {
    bpf_map_delete_elem(&active_calls, &pid_tgid);
    return;
  }

  __u32 zero = 0;
  struct jj_data_event* event = bpf_map_lookup_elem(&scratch_event, &zero);
  if (!event) {
    bpf_map_delete_elem(&active_calls, &pid_tgid);
    return;
  }

  struct stream_key key = {.ssl = call->ssl, .pid = pid_tgid >> 32, .direction = call->direction};
  __u64 stream_offset = 0;
  __u64* known_offset = bpf_map_lookup_elem(&stream_offsets, &key);
  if (known_offset) stream_offset = *known_offset;
  __u64 next_offset = stream_offset + moved;
  bpf_map_update_elem(&stream_offsets, &key, &next_offset, BPF_ANY);

  event->header.kind = JJ_EVENT_DATA;
  event->header.pid = pid_tgid >> 32;
  event->header.tid = (__u32)pid_tgid;
  event->header.abi_version = JJ_ABI_VERSION;
  event->header.timestamp_ns = bpf_ktime_get_ns();
  event->ssl = call->ssl;
  event->call_start_ns = call->start_ns;
  event->stream_offset = stream_offset;
  event->call_bytes = moved;
  event->direction = call->direction;
  event->peer = call->peer;
  bpf_get_current_comm(event->comm, sizeof(event->comm));

  __u32 captured = moved;
  if (captured > max_call_bytes) {
    captured = max_call_bytes;
    count_drop(JJ_DROP_CALL_TRUNCATED);
  }
  struct chunk_context ctx = {.event = event, .buffer = call->buffer, .captured = captured};
  __u32 chunks = (captured + JJ_CHUNK_BYTES - 1) / JJ_CHUNK_BYTES;
  if (chunks > JJ_MAX_CHUNKS_PER_CALL) chunks = JJ_MAX_CHUNKS_PER_CALL;
  bpf_map_delete_elem(&active_calls, &pid_tgid);
  bpf_loop(chunks, emit_chunk, &ctx, 0);
}

/* Attempts at a consistent read of the process record while another thread rewrites it. */
#define PROCESS_RECORD_ATTEMPTS 3

/* Copies the record at user address `address` into event->record. */
static __always_inline __u32 copy_record(struct jj_context_event* event, __u64 address) {
  struct jj_record_header header;
  if (bpf_probe_read_user(&header, sizeof(header), (const void*)address) != 0)
    return JJ_CONTEXT_READ_FAILED;
  __u32 size = JJ_RECORD_HEADER_BYTES + header.payload_bytes;
  if (header.magic != JJ_RECORD_MAGIC || size > JJ_CONTEXT_RECORD_MAX_BYTES)
    return JJ_CONTEXT_BAD_RECORD;
  /* The mask restates the bound above so the verifier can see it. */
  asm volatile("%[size] &= %[mask]"
               : [size] "+r"(size)
               : [mask] "i"(JJ_CONTEXT_RECORD_MAX_BYTES * 2 - 1));
  if (size > JJ_CONTEXT_RECORD_MAX_BYTES) return JJ_CONTEXT_BAD_RECORD;
  if (bpf_probe_read_user(event->record, size, (const void*)address) != 0)
    return JJ_CONTEXT_READ_FAILED;
  event->record_bytes = size;
  return JJ_CONTEXT_OK;
}

/* Returns the address of the calling thread's current record, or 0. */
static __always_inline __u64 find_thread_record(__u64 base, __u32 tid) {
  for (__u32 i = 0; i < JJ_REGISTRY_SLOT_PROBES; ++i) {
    __u32 index = (tid + i) % JJ_REGISTRY_SLOT_COUNT;
    struct jj_thread_slot slot;
    __u64 address = base + JJ_REGISTRY_SLOTS_OFFSET + index * sizeof(struct jj_thread_slot);
    if (bpf_probe_read_user(&slot, sizeof(slot), (const void*)address) != 0) continue;
    if (slot.tid == tid) return slot.record;
  }
  return 0;
}

static __always_inline void read_process_record(struct jj_context_event* event, __u64 base) {
  __u64 sequence_address = base + offsetof(struct jj_registry_header, process_sequence);
  for (int attempt = 0; attempt < PROCESS_RECORD_ATTEMPTS; ++attempt) {
    __u32 before = 0, after = 0, is_set = 0;
    if (bpf_probe_read_user(&before, sizeof(before), (const void*)sequence_address) != 0) break;
    if (before & 1) continue;
    bpf_probe_read_user(&is_set, sizeof(is_set),
                        (const void*)(base + offsetof(struct jj_registry_header,
                                                      process_record_set)));
    __u32 status = JJ_CONTEXT_OK;
    if (is_set) {
      status = copy_record(event,
                           base + offsetof(struct jj_registry_header, process_record));
    }
    if (bpf_probe_read_user(&after, sizeof(after), (const void*)sequence_address) != 0) break;
    if (before != after) continue;
    event->status = status;
    event->source = is_set && status == JJ_CONTEXT_OK ? JJ_CONTEXT_PROCESS : JJ_CONTEXT_NONE;
    if (event->source == JJ_CONTEXT_NONE) event->record_bytes = 0;
    return;
  }
  event->status = JJ_CONTEXT_TORN;
  event->record_bytes = 0;
}

/* Emits the calling thread's user context for the SSL_write starting at start_ns.
 * Processes without a registry emit nothing. */
/* Returns the id of `task` in its own pid namespace: the id that getpid() or gettid() gives
 * inside a container, which is what the SDK writes into the registry. */
static __always_inline __u32 namespace_id(struct task_struct* task) {
  struct pid* pid = BPF_CORE_READ(task, thread_pid);
  unsigned int level = BPF_CORE_READ(pid, level);
  struct upid id = {};
  bpf_core_read(&id, sizeof(id), &pid->numbers[level]);
  return id.nr;
}

static __always_inline void emit_user_context(__u64 pid_tgid, __u64 ssl, __u64 start_ns) {
  __u32 pid = pid_tgid >> 32;
  struct task_struct* task = (struct task_struct*)bpf_get_current_task_btf();
  __u32 namespace_tid = namespace_id(task);
  __u32 namespace_pid = namespace_id(BPF_CORE_READ(task, group_leader));
  __u64 base = JJ_REGISTRY_FIXED_ADDRESS;
  __u64* known = bpf_map_lookup_elem(&registry_addresses, &pid);
  if (known) base = *known;

  /* magic, version and pid: the header's first fields (the whole header is too big for the
   * BPF stack). */
  __u32 header[3];
  if (bpf_probe_read_user(header, sizeof(header), (const void*)base) != 0) return;
  if (header[0] != JJ_REGISTRY_MAGIC) return;

  struct jj_context_event* event = bpf_ringbuf_reserve(&events, sizeof(*event), 0);
  if (!event) {
    count_drop(JJ_DROP_RINGBUF_FULL);
    return;
  }
  event->header.kind = JJ_EVENT_USER_CONTEXT;
  event->header.pid = pid;
  event->header.tid = (__u32)pid_tgid;
  event->header.abi_version = JJ_ABI_VERSION;
  event->header.timestamp_ns = bpf_ktime_get_ns();
  event->ssl = ssl;
  event->call_start_ns = start_ns;
  event->source = JJ_CONTEXT_NONE;
  event->status = JJ_CONTEXT_OK;
  event->record_bytes = 0;
  event->reserved = 0;

  if (header[1] != JJ_REGISTRY_VERSION) {
    event->status = JJ_CONTEXT_BAD_HEADER;
  } else if (header[2] != namespace_pid) {
    event->status = JJ_CONTEXT_FOREIGN_REGISTRY;
  } else {
    __u64 record = find_thread_record(base, namespace_tid);
    if (record) {
      event->status = copy_record(event, record);
      if (event->status == JJ_CONTEXT_OK) event->source = JJ_CONTEXT_SCOPE;
    } else {
      read_process_record(event, base);
    }
  }
  bpf_ringbuf_submit(event, 0);
}

/* The user is decided here, at the write, from the thread's context at this instant. */
static __always_inline void enter_write(__u64 ssl, __u64 buffer, __u64 length_out) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  if (!is_traced(pid_tgid)) return;
  __u64 start_ns = enter_call(ssl, buffer, length_out, JJ_DIRECTION_WRITE);
  if (start_ns) emit_user_context(pid_tgid, ssl, start_ns);
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_enter, void* ssl, const void* buffer, int length) {
  enter_write((__u64)ssl, (__u64)buffer, 0);
  return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_ex_enter, void* ssl, const void* buffer, __u64 length, __u64* written) {
  enter_write((__u64)ssl, (__u64)buffer, (__u64)written);
  return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_enter, void* ssl, void* buffer, int length) {
  enter_call((__u64)ssl, (__u64)buffer, 0, JJ_DIRECTION_READ);
  return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_ex_enter, void* ssl, void* buffer, __u64 length, __u64* read_bytes) {
  enter_call((__u64)ssl, (__u64)buffer, (__u64)read_bytes, JJ_DIRECTION_READ);
  return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_call_return, long ret) {
  return_call(ret);
  return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_free_enter, void* ssl) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  if (!is_traced(pid_tgid) || !ssl) return 0;
  struct stream_key key = {.ssl = (__u64)ssl, .pid = pid_tgid >> 32};
  bool seen = false;
  for (__u32 direction = 0; direction < 2; ++direction) {
    key.direction = direction;
    if (bpf_map_delete_elem(&stream_offsets, &key) == 0) seen = true;
  }
  /* Most SSL objects never carried data the agent saw; skip their close. */
  if (!seen) return 0;
  struct jj_close_event event = {
      .header = {.kind = JJ_EVENT_CLOSE,
                 .pid = pid_tgid >> 32,
                 .tid = (__u32)pid_tgid,
                 .abi_version = JJ_ABI_VERSION,
                 .timestamp_ns = bpf_ktime_get_ns()},
      .ssl = (__u64)ssl,
  };
  if (bpf_ringbuf_output(&events, &event, sizeof(event), 0) != 0)
    count_drop(JJ_DROP_RINGBUF_FULL);
  return 0;
}

/* Fills `peer` from the socket behind `fd` of the current task. Returns false
 * when fd is not an inet socket. */
static __always_inline bool read_socket_peer(int fd, struct jj_peer* peer) {
  struct task_struct* task = (struct task_struct*)bpf_get_current_task_btf();
  struct files_struct* files = BPF_CORE_READ(task, files);
  struct fdtable* table = BPF_CORE_READ(files, fdt);
  if (fd < 0 || (unsigned int)fd >= BPF_CORE_READ(table, max_fds)) return false;
  struct file** fds = BPF_CORE_READ(table, fd);
  struct file* file = NULL;
  bpf_core_read(&file, sizeof(file), &fds[fd]);
  if (!file) return false;
  umode_t mode = BPF_CORE_READ(file, f_inode, i_mode);
  if ((mode & S_IFMT) != S_IFSOCK) return false;
  struct socket* socket = BPF_CORE_READ(file, private_data);
  struct sock* sk = BPF_CORE_READ(socket, sk);
  if (!sk) return false;
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  __u16 port_be = BPF_CORE_READ(sk, __sk_common.skc_dport);
  if (family == AF_INET) {
    __u32 address = BPF_CORE_READ(sk, __sk_common.skc_daddr);
    __builtin_memcpy(peer->address, &address, sizeof(address));
  } else if (family == AF_INET6) {
    BPF_CORE_READ_INTO(&peer->address, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
  } else {
    return false;
  }
  peer->family = family;
  peer->port = __builtin_bswap16(port_be);
  return true;
}

/* x86-64 numbers of the system calls that an SSL socket BIO issues. */
#define NR_READ 0
#define NR_WRITE 1
#define NR_READV 19
#define NR_WRITEV 20
#define NR_SENDTO 44
#define NR_RECVFROM 45
#define NR_SENDMSG 46
#define NR_RECVMSG 47

SEC("raw_tracepoint/sys_enter")
int sys_enter(struct bpf_raw_tracepoint_args* ctx) {
  if (!capture_peer) return 0;
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  struct active_call* call = bpf_map_lookup_elem(&active_calls, &pid_tgid);
  if (!call || call->peer.family != 0) return 0;
  long id = ctx->args[1];
  if (id != NR_READ && id != NR_WRITE && id != NR_READV && id != NR_WRITEV && id != NR_SENDTO &&
      id != NR_RECVFROM && id != NR_SENDMSG && id != NR_RECVMSG)
    return 0;
  struct pt_regs* regs = (struct pt_regs*)ctx->args[0];
  int fd = (int)PT_REGS_PARM1_CORE(regs);
  struct jj_peer peer = {};
  if (read_socket_peer(fd, &peer)) call->peer = peer;
  return 0;
}

static __always_inline void emit_process_event(__u32 kind) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  struct jj_process_event event = {
      .header = {.kind = kind,
                 .pid = pid_tgid >> 32,
                 .tid = (__u32)pid_tgid,
                 .abi_version = JJ_ABI_VERSION,
                 .timestamp_ns = bpf_ktime_get_ns()},
  };
  bpf_get_current_comm(event.comm, sizeof(event.comm));
  if (bpf_ringbuf_output(&events, &event, sizeof(event), 0) != 0)
    count_drop(JJ_DROP_RINGBUF_FULL);
}

SEC("raw_tracepoint/sched_process_exec")
int process_exec(struct bpf_raw_tracepoint_args* ctx) {
  emit_process_event(JJ_EVENT_EXEC);
  return 0;
}

/* A forked child keeps its parent's mappings, so a registry the agent had to look up in
 * /proc/PID/maps is at the same address in the child. */
SEC("raw_tracepoint/sched_process_fork")
int process_fork(struct bpf_raw_tracepoint_args* ctx) {
  struct task_struct* parent = (struct task_struct*)ctx->args[0];
  struct task_struct* child = (struct task_struct*)ctx->args[1];
  __u32 child_pid = BPF_CORE_READ(child, tgid);
  if (child_pid != (__u32)BPF_CORE_READ(child, pid)) return 0; /* a new thread, not a process */
  __u32 parent_pid = BPF_CORE_READ(parent, tgid);
  __u64* address = bpf_map_lookup_elem(&registry_addresses, &parent_pid);
  if (address) bpf_map_update_elem(&registry_addresses, &child_pid, address, BPF_ANY);
  return 0;
}

SEC("raw_tracepoint/sched_process_exit")
int process_exit(struct bpf_raw_tracepoint_args* ctx) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  /* Only the thread-group leader's exit ends the process. */
  if ((__u32)pid_tgid != (__u32)(pid_tgid >> 32)) return 0;
  emit_process_event(JJ_EVENT_EXIT);
  return 0;
}
