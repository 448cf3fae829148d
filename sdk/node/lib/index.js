// JamJet for Node: names the end user behind the LLM API calls that a request makes.
//
// The JamJet agent reads the user at each SSL_write from the calling thread's slot in a
// per-process registry that the C SDK (compiled into the addon) writes. Node runs every
// request on the event loop thread, so the slot must hold the right request's record at
// the instant that request's bytes are encrypted. This module does that in three steps:
//   1. withUserContext() encodes the context once and keeps the record in an
//      AsyncLocalStorage store, so it follows every await and callback.
//   2. When an HTTP client request is created (undici:request:create for fetch and undici,
//      http.client.request.start for node:http and node:https), the store of the caller's
//      async context is attached to the request. When the request gets its socket
//      (undici:client:sendHeaders, or the request's 'socket' event), the record is attached
//      to the socket.
//   3. The TLS socket's _writeGeneric, through which every write of a net.Socket reaches
//      the TLS layer, installs the socket's record in the thread slot for the duration of
//      the write and restores the previous one afterwards.
// Outside a write the slot points at the record of the innermost withUserContext() whose
// synchronous part is running, or at none. With none, the agent falls back to the process
// record (setUserContext).
'use strict';

const { AsyncLocalStorage } = require('node:async_hooks');
const diagnosticsChannel = require('node:diagnostics_channel');

const { createContext, setProcessContext } = require('./context');

const storage = new AsyncLocalStorage();
const kRecord = Symbol('jamjet.record');
const kWritesHooked = Symbol('jamjet.writesHooked');

let native = null;
// Record in this thread's registry slot, as this module last set it. Each worker thread
// loads its own copy of this module and has its own slot.
let installedRecord = null;
let hooksInstalled = false;

function loadNative() {
  if (native === null) native = require('../build/Release/jamjet_native.node');
  return native;
}

// Sets this thread's current record and returns the one it replaces.
function installRecord(record) {
  const previous = installedRecord;
  if (record !== previous) {
    native.install(record);
    installedRecord = record;
  }
  return previous;
}

// Makes every write of a TLS socket run with the socket's record installed in the thread slot.
function hookSocketWrites(socket) {
  if (socket[kWritesHooked] !== undefined || socket.encrypted !== true) return;
  const writeGeneric = socket._writeGeneric;
  if (typeof writeGeneric !== 'function') {
    // NOTE: net.Socket has _writeGeneric in Node 20 and 22. Without it, writes carry no user.
    socket[kWritesHooked] = false;
    return;
  }
  socket[kWritesHooked] = true;
  socket._writeGeneric = function jamjetWriteGeneric(writev, data, encoding, callback) {
    if (this._secureEstablished === false && !this.destroyed) {
      deferUntilSecure(this, writev, data, encoding, callback);
      return;
    }
    // A node:http socket carries the record of the request that owns it (_httpMessage), an
    // undici socket the one that onUndiciSendHeaders attached.
    const record = this._httpMessage?.[kRecord] ?? this[kRecord] ?? null;
    const previous = installRecord(record);
    try {
      return writeGeneric.call(this, writev, data, encoding, callback);
    } finally {
      installRecord(previous);
    }
  };
}

// Holds a write made before the TLS handshake finished until 'secureConnect'. Given to the
// TLS layer earlier, the data would wait inside Node's TLSWrap and be encrypted by SSL_write
// from native code when the server's handshake reply arrives, where no JavaScript runs to
// install the record. net.Socket delays writes until 'connect' the same way. The stream's
// other writes queue behind this one, because its callback runs only after the write.
function deferUntilSecure(socket, writev, data, encoding, callback) {
  const onSecureConnect = () => {
    socket.off('close', onClose);
    socket._writeGeneric(writev, data, encoding, callback);
  };
  const onClose = () => {
    socket.off('secureConnect', onSecureConnect);
    const error = new Error('jamjet: the TLS socket closed before its handshake finished');
    error.code = 'ERR_SOCKET_CLOSED_BEFORE_CONNECTION';
    callback(error);
  };
  socket.once('secureConnect', onSecureConnect);
  socket.once('close', onClose);
}

function attachRecordToSocket(socket, record) {
  hookSocketWrites(socket);
  socket[kRecord] = record;
}

// Returns the handler that undici stored on one of its core Request objects. undici keeps it
// under a private Symbol('handler') (undici 5 to 7), found once per Request class.
const handlerSymbols = new WeakMap();
function requestHandler(request) {
  const prototype = Object.getPrototypeOf(request);
  let symbol = handlerSymbols.get(prototype);
  if (symbol === undefined) {
    symbol = Object.getOwnPropertySymbols(request).find((candidate) => candidate.description === 'handler') ?? null;
    handlerSymbols.set(prototype, symbol);
  }
  return symbol === null ? undefined : request[symbol];
}

// Makes a dispatcher's dispatch() tag each handler with the caller's record. The outermost
// dispatch (Agent, in the caller's async context) sets the tag and the inner ones keep it.
// This matters because a Pool with a connection limit queues the dispatch. It runs the inner
// Client.dispatch later, in the async context of the request that freed a connection.
const patchedDispatchers = new WeakSet();
function patchDispatcher(dispatcher) {
  if (dispatcher === null || typeof dispatcher !== 'object') return;
  let owner = dispatcher;
  while (owner !== null && !Object.prototype.hasOwnProperty.call(owner, 'dispatch')) {
    owner = Object.getPrototypeOf(owner);
  }
  if (owner === null || patchedDispatchers.has(owner) || typeof owner.dispatch !== 'function') return;
  patchedDispatchers.add(owner);
  const dispatch = owner.dispatch;
  owner.dispatch = function jamjetDispatch(opts, handler) {
    if (typeof handler === 'object' && handler !== null && handler[kRecord] === undefined) {
      handler[kRecord] = storage.getStore()?.record ?? null;
    }
    return dispatch.call(this, opts, handler);
  };
}

const kGlobalDispatcher = Symbol.for('undici.globalDispatcher.1');
function patchGlobalDispatcher() {
  if (globalThis[kGlobalDispatcher] === undefined && typeof globalThis.Request === 'function') {
    // Node's bundled undici creates its global Agent in the Request constructor.
    new globalThis.Request('http://127.0.0.1/');
  }
  patchDispatcher(globalThis[kGlobalDispatcher]);
}

// Wraps globalThis.fetch when this module loads, before the application creates its LLM
// clients (the openai and @anthropic-ai/sdk clients keep the fetch they find at
// construction). Until the first withUserContext() the wrapper only adds a function call.
function wrapFetch() {
  const originalFetch = globalThis.fetch;
  if (typeof originalFetch !== 'function' || originalFetch.jamjetOriginal !== undefined) return;
  const jamjetFetch = function fetch(input, init) {
    if (hooksInstalled) {
      const dispatcher = init?.dispatcher;
      if (dispatcher !== undefined) patchDispatcher(dispatcher);
      else patchDispatcher(globalThis[kGlobalDispatcher]);
    }
    return Reflect.apply(originalFetch, this, arguments);
  };
  Object.defineProperty(jamjetFetch, 'jamjetOriginal', { value: originalFetch });
  globalThis.fetch = jamjetFetch;
}

function onUndiciRequestCreate(message) {
  const request = message.request;
  const tagged = requestHandler(request)?.[kRecord];
  // An untagged request comes from a dispatcher that no fetch call has passed through this
  // module, so it gets the record of the async context that creates it.
  request[kRecord] = tagged !== undefined ? tagged : (storage.getStore()?.record ?? null);
}

function onUndiciSendHeaders(message) {
  attachRecordToSocket(message.socket, message.request[kRecord] ?? null);
}

// node:http and node:https. Node 20 publishes http.client.request.start only after the
// request is written (from ClientRequest._finish), too late to attribute it, so the record is
// captured when the request first builds its headers: ClientRequest._implicitHeader runs
// inside the application's first write(), end() or flushHeaders() call.
function patchHttpClient() {
  const prototype = require('node:http').ClientRequest.prototype;
  const implicitHeader = prototype._implicitHeader;
  const onSocket = prototype.onSocket;
  if (typeof implicitHeader !== 'function' || typeof onSocket !== 'function') {
    // NOTE: both exist in Node 20 and 22. Without them, node:http requests carry no user.
    return;
  }
  prototype._implicitHeader = function jamjetImplicitHeader() {
    if (this[kRecord] === undefined) this[kRecord] = storage.getStore()?.record ?? null;
    return implicitHeader.apply(this, arguments);
  };
  prototype.onSocket = function jamjetOnSocket(socket) {
    if (socket != null) hookSocketWrites(socket);
    return onSocket.apply(this, arguments);
  };
}

// Subscribes to the HTTP client channels on the first withUserContext(), so that an
// application that never opens a scope pays nothing.
function ensureHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  patchGlobalDispatcher();
  diagnosticsChannel.subscribe('undici:request:create', onUndiciRequestCreate);
  diagnosticsChannel.subscribe('undici:client:sendHeaders', onUndiciSendHeaders);
  patchHttpClient();
}

function runInScope(store, fn) {
  const previous = installRecord(store.record);
  try {
    return fn();
  } finally {
    installRecord(previous);
  }
}

/**
 * Runs fn with ctx as the end user of every LLM call that fn starts, including calls made
 * after an await or from a callback (AsyncLocalStorage semantics). Returns what fn
 * returns, so an async fn's Promise is returned as is. A nested call overrides the outer
 * context, and any scope overrides setUserContext().
 */
function withUserContext(ctx, fn) {
  if (typeof fn !== 'function') {
    const error = new TypeError(`withUserContext: fn must be a function, got ${describeType(fn)}`);
    error.code = 'JAMJET_ERR_INVALID_ARGUMENT';
    throw error;
  }
  const store = createContext(loadNative(), ctx, 'withUserContext');
  ensureHooks();
  return storage.run(store, runInScope, store, fn);
}

/**
 * Sets the process-level end user, which applies to LLM calls made outside any
 * withUserContext(). setUserContext(null) clears it. Meant for CLIs, workers and batch
 * jobs that act for one user, not for per-request use: it takes a lock in the C SDK.
 */
function setUserContext(ctx) {
  if (ctx === null) {
    loadNative().clearProcessContext();
    return;
  }
  if (ctx === undefined) {
    const error = new TypeError('setUserContext: ctx is undefined: pass { userId, email?, attrs? }, or null to clear');
    error.code = 'JAMJET_ERR_INVALID_ARGUMENT';
    throw error;
  }
  setProcessContext(loadNative(), ctx, 'setUserContext');
}

/** Returns the context of the innermost withUserContext() around the caller, or undefined. */
function getUserContext() {
  return storage.getStore()?.context;
}

function describeType(value) {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

// Reads back what the agent would find in the registry, for tests and troubleshooting.
const diagnostics = {
  /** Returns { userId, email } of this thread's current record, or null. */
  threadRecord() {
    return loadNative().threadRecord();
  },
  /** Returns { userId, email } of the process record, or null. */
  processRecord() {
    return loadNative().processRecord();
  },
};

wrapFetch();

module.exports = { withUserContext, setUserContext, getUserContext, diagnostics };
