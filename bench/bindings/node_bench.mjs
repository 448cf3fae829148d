// Cost of the Node binding (sdk/node) for an application that never calls it and for one that
// wraps every request in withUserContext().
//
// Usage: node node_bench.mjs --url https://127.0.0.1:PORT/ [--requests N] [--rounds R]
// (run_benchmarks.py starts the local TLS server and passes NODE_EXTRA_CA_CERTS.)
// Each round runs one child process per mode, in turn:
//   plain   fetch only, and jamjet is never loaded
//   loaded  jamjet is loaded (it wraps globalThis.fetch) but never called
//   als     every request runs inside AsyncLocalStorage.run() without jamjet, the share of
//           the cost that comes from AsyncLocalStorage itself
//   scoped  every request runs inside withUserContext() with its own context
// and prints per-request times for sequential and for 16-way concurrent keep-alive requests.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const { values: options } = parseArgs({
  options: {
    url: { type: 'string' },
    requests: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    mode: { type: 'string' },
  },
});
const requests = Number(options.requests);
const CONCURRENCY = 16;
const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello.' }] });

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function post() {
  const response = await fetch(options.url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  await response.arrayBuffer();
}

function userContext(index) {
  return { userId: `user-${index % 50}`, email: `user${index % 50}@example.com`, attrs: { plan: 'pro', seats: index % 50, admin: false } };
}

async function measure(send) {
  for (let index = 0; index < 200; index++) await send(index); // warm-up
  let start = process.hrtime.bigint();
  for (let index = 0; index < requests; index++) await send(index);
  const sequential = Number(process.hrtime.bigint() - start) / requests / 1000;
  start = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests) await send(next++);
    }),
  );
  const concurrent = Number(process.hrtime.bigint() - start) / requests / 1000;
  return { sequential, concurrent };
}

async function child(mode) {
  let send = () => post();
  const result = { mode };
  if (mode === 'als') {
    const { AsyncLocalStorage } = require('node:async_hooks');
    const storage = new AsyncLocalStorage();
    send = (index) => storage.run(userContext(index), post);
  } else if (mode !== 'plain') {
    const jamjet = require('../../sdk/node');
    if (mode === 'scoped') {
      send = (index) => jamjet.withUserContext(userContext(index), post);
      const iterations = 200_000;
      for (let index = 0; index < 10_000; index++) jamjet.withUserContext(userContext(index), () => 0);
      const start = process.hrtime.bigint();
      for (let index = 0; index < iterations; index++) jamjet.withUserContext(userContext(index), () => 0);
      result.withUserContextNs = Number(process.hrtime.bigint() - start) / iterations;
    }
  }
  Object.assign(result, await measure(send));
  console.log(JSON.stringify(result));
}

function parent() {
  const modes = ['plain', 'loaded', 'als', 'scoped'];
  const results = Object.fromEntries(modes.map((mode) => [mode, []]));
  for (let round = 0; round < Number(options.rounds); round++) {
    for (const mode of modes) {
      const args = [fileURLToPath(import.meta.url), '--url', options.url, '--requests', String(requests), '--mode', mode];
      results[mode].push(JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })));
    }
  }
  const summary = {};
  for (const mode of modes) {
    summary[mode] = {
      sequentialUs: median(results[mode].map((run) => run.sequential)),
      concurrentUs: median(results[mode].map((run) => run.concurrent)),
    };
  }
  summary.scoped.withUserContextNs = median(results.scoped.map((run) => run.withUserContextNs));
  console.log(JSON.stringify({ node: process.version, requests, rounds: Number(options.rounds), concurrency: CONCURRENCY, summary }, null, 2));
}

if (!options.url) throw new Error('missing required option --url');
if (options.mode) await child(options.mode);
else parent();
