"""Name the end user behind each LLM API call, for the JamJet agent.

    from jamjet.cloud import with_user_context, set_user_context

    async with with_user_context({"user_id": "8d0c5b1e", "email": "ada@example.com",
                                  "attrs": {"plan": "pro", "seats": 250}}):
        await client.chat.completions.create(...)

The JamJet agent reads the user at each SSL_write from the calling thread's slot in a
per-process registry that the C SDK writes. The current context lives in a ContextVar, so it
follows asyncio tasks. This module also carries it into threads started inside a scope and
into functions submitted to a ThreadPoolExecutor, which covers loop.run_in_executor and
asyncio.to_thread. Because asyncio interleaves many tasks on one thread, the thread slot is
set from the ContextVar on scope entry and exit, and again around every TLS write that the
ssl module makes (ssl.SSLObject.write for asyncio and anyio streams, ssl.SSLSocket.write,
send and sendall for blocking sockets).
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import functools
import ssl
import threading
from collections.abc import Mapping
from typing import Any, Callable

from . import _library
from ._context import UserContext, create_context, set_process_context
from ._library import LibraryNotFoundError

__all__ = ["with_user_context", "set_user_context", "get_user_context", "LibraryNotFoundError"]

_current: contextvars.ContextVar[UserContext | None] = contextvars.ContextVar("jamjet_user_context", default=None)
# The context whose record this thread's slot points at, kept referenced so that the record
# outlives its use by the agent.
_thread_state = threading.local()
_hooks_lock = threading.Lock()
_hooks_installed = False


def _swap(address: int | None) -> int | None:
    return _library.library().jamjet_thread_swap_record(address)


def _install(context: UserContext | None) -> None:
    """Point this thread's slot at context's record (or at none) and keep context referenced."""
    _swap(context.address if context is not None else None)
    _thread_state.installed = context


class _Scope:
    """Context manager of with_user_context(), usable with `with` and `async with` once."""

    __slots__ = ("_context", "_token")

    def __init__(self, context: UserContext):
        self._context = context
        self._token: contextvars.Token | None = None

    def __enter__(self) -> Mapping[str, Any]:
        if self._token is not None:
            raise RuntimeError("with_user_context: this scope is already entered: call with_user_context() again for a new scope")
        self._token = _current.set(self._context)
        _install(self._context)
        return self._context.data

    def __exit__(self, *exc_info) -> None:
        token, self._token = self._token, None
        _current.reset(token)
        # On asyncio the slot may belong to another task by now. The TLS write hooks set it
        # right before each write, so this restores only the sequential case.
        _install(_current.get())

    async def __aenter__(self) -> Mapping[str, Any]:
        return self.__enter__()

    async def __aexit__(self, *exc_info) -> None:
        self.__exit__(*exc_info)


def with_user_context(ctx: Mapping[str, Any]) -> _Scope:
    """Return a context manager that makes ctx the end user of the LLM calls made inside it.

    ctx is {'user_id': str, 'email': str | None, 'attrs': {str: str | int | float | bool}};
    only user_id is required. The context follows asyncio tasks, threads started inside the
    scope, ThreadPoolExecutor.submit, loop.run_in_executor and asyncio.to_thread. A nested
    scope overrides the outer one, and any scope overrides set_user_context().

    Raises TypeError or ValueError, naming the field, when ctx is invalid, and
    LibraryNotFoundError when libjamjet.so.0 cannot be loaded.
    """
    context = create_context("with_user_context", ctx)
    _install_hooks()
    return _Scope(context)


def set_user_context(ctx: Mapping[str, Any] | None) -> None:
    """Set the process-level end user, for LLM calls made outside any with_user_context().

    set_user_context(None) clears it. Meant for CLIs, workers and batch jobs that act for one
    user: it takes a lock in the C SDK, so it is not for per-request use.
    """
    set_process_context("set_user_context", ctx)


def get_user_context() -> Mapping[str, Any] | None:
    """Return the context of the innermost with_user_context() around the caller, or None."""
    context = _current.get()
    return context.data if context is not None else None


# Hooks, installed by the first with_user_context() so that an application that never opens
# a scope runs unchanged.


def _wrap_tls_write(method: Callable) -> Callable:
    @functools.wraps(method)
    def write_with_user(self, *args, **kwargs):
        context = _current.get()
        previous = _swap(context.address if context is not None else None)
        try:
            return method(self, *args, **kwargs)
        finally:
            _swap(previous)

    write_with_user.__jamjet_original__ = method
    return write_with_user


def _run_with_context(context: UserContext | None, function: Callable, *args, **kwargs):
    token = _current.set(context)
    previous = getattr(_thread_state, "installed", None)
    _install(context)
    try:
        return function(*args, **kwargs)
    finally:
        _current.reset(token)
        _install(previous)


def _wrap_thread_start(start: Callable) -> Callable:
    @functools.wraps(start)
    def start_with_user(self, *args, **kwargs):
        context = _current.get()
        if context is not None:
            # Thread.run may be overridden by a subclass, so the bound method is wrapped.
            self.run = functools.partial(_run_with_context, context, self.run)
        return start(self, *args, **kwargs)

    return start_with_user


def _wrap_executor_submit(submit: Callable) -> Callable:
    @functools.wraps(submit)
    def submit_with_user(self, fn, /, *args, **kwargs):
        # Also without a context: a worker thread started inside a scope inherits that scope,
        # and a function submitted from outside any scope must not run with it.
        fn = functools.partial(_run_with_context, _current.get(), fn)
        return submit(self, fn, *args, **kwargs)

    return submit_with_user


def _install_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    with _hooks_lock:
        if _hooks_installed:
            return
        ssl.SSLObject.write = _wrap_tls_write(ssl.SSLObject.write)
        for name in ("write", "send", "sendall"):
            setattr(ssl.SSLSocket, name, _wrap_tls_write(getattr(ssl.SSLSocket, name)))
        threading.Thread.start = _wrap_thread_start(threading.Thread.start)
        executor = concurrent.futures.ThreadPoolExecutor
        executor.submit = _wrap_executor_submit(executor.submit)
        _hooks_installed = True


def _thread_record_user_id() -> str | None:
    """Return the user id of this thread's current record as the agent would read it, for tests."""
    import ctypes

    registry = _library.library().jamjet_registry()
    if not registry:
        return None
    header = (ctypes.c_uint32 * 4).from_address(registry)  # magic, version, pid, slot_count
    slots_offset = ctypes.c_uint64.from_address(registry + 24).value
    tid = threading.get_native_id()
    for probe in range(16):
        slot = registry + slots_offset + ((tid + probe) % header[3]) * 16
        if ctypes.c_uint32.from_address(slot).value != tid:
            continue
        record = ctypes.c_uint64.from_address(slot + 8).value
        if not record:
            return None
        length = ctypes.c_uint16.from_address(record + 8).value
        return ctypes.string_at(record + 10, length).decode("utf-8")
    return None
