// Test applications that are not servers. Each prints one JSON object on stdout:
// { pid, comm, calls: [{ id, expected }] }, where expected is the user that the agent must
// report for the call: { source, userId?, email?, attrs? }.
//
// Usage: node scenarios.mjs SCENARIO --base-url URL --api-key KEY [--count N]
//   route-handler  Next.js-style route handlers (async (Request) => Response) run concurrently
//   cli            one user through setUserContext, then cleared with setUserContext(null)
//   precedence     a process-level user and concurrent scopes: the scope wins
//   https-module   node:https requests, new and reused keep-alive sockets
//   invalid-input  prints the errors of invalid contexts instead of calls
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { parseArgs } from 'node:util';
import jamjet from 'jamjet';

import { createLlmCaller, sleep } from './llm.mjs';

const { withUserContext, setUserContext, getUserContext } = jamjet;
const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'base-url': { type: 'string' },
    'api-key': { type: 'string' },
    count: { type: 'string', default: '20' },
  },
});
const count = Number(options.count);
const callLlm = createLlmCaller({ baseUrl: options['base-url'], apiKey: options['api-key'] });

function userNumber(index) {
  return {
    userId: `user-${index}`,
    email: `user${index}@example.com`,
    attrs: { plan: index % 2 ? 'pro' : 'free', seats: index * 3, admin: index % 3 === 0 },
  };
}

function scoped(user) {
  return { source: 'scope', ...user };
}

// The shape of a Next.js App Router route handler: app/api/chat/route.js exports POST.
async function POST(request) {
  const userId = request.headers.get('x-user-id');
  const user = { userId, email: request.headers.get('x-user-email'), attrs: { plan: request.headers.get('x-user-plan') } };
  return withUserContext(user, async () => {
    const { prompt, stream } = await request.json();
    await sleep(Math.random() * 20);
    const id = await callLlm('openai', { prompt, stream });
    return Response.json({ id });
  });
}

async function routeHandler() {
  const calls = await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const user = userNumber(index % 7);
      const request = new Request('http://app.local/api/chat', {
        method: 'POST',
        headers: { 'x-user-id': user.userId, 'x-user-email': user.email, 'x-user-plan': user.attrs.plan },
        body: JSON.stringify({ prompt: `Request ${index}`, stream: index % 2 === 0 }),
      });
      const response = await POST(request);
      const { id } = await response.json();
      return { id, expected: scoped({ userId: user.userId, email: user.email, attrs: { plan: user.attrs.plan } }) };
    }),
  );
  return calls;
}

async function cli() {
  const user = { userId: 'cli-user', email: 'cli@example.com', attrs: { plan: 'team', seats: 5, trial: false } };
  setUserContext(user);
  const calls = [];
  calls.push({ id: await callLlm('openai', {}), expected: { source: 'process', ...user } });
  calls.push({ id: await callLlm('anthropic', { stream: true }), expected: { source: 'process', ...user } });
  setUserContext(null);
  calls.push({ id: await callLlm('openai', {}), expected: { source: 'none' } });
  calls.push({ id: await callLlm('openai', { endUser: 'body-user' }), expected: { source: 'request_body', userId: 'body-user' } });
  calls.push({ id: await callLlm('anthropic', { endUser: 'body-user-2' }), expected: { source: 'request_body', userId: 'body-user-2' } });
  return calls;
}

async function precedence() {
  const processUser = { userId: 'process-user', email: 'process@example.com', attrs: { role: 'batch' } };
  setUserContext(processUser);
  const inScopes = Array.from({ length: count }, (_, index) =>
    withUserContext(userNumber(index), async () => {
      await sleep(Math.random() * 20);
      // A body end-user id loses to the scope too.
      return { id: await callLlm('openai', { stream: index % 2 === 0, endUser: 'body-user' }), expected: scoped(userNumber(index)) };
    }),
  );
  const outside = Array.from({ length: 4 }, async () => {
    await sleep(Math.random() * 20);
    return { id: await callLlm('openai', {}), expected: { source: 'process', ...processUser } };
  });
  const calls = await Promise.all([...inScopes, ...outside]);
  setUserContext(null);
  return calls;
}

// node:https with a keep-alive agent of 2 sockets: the first request on each socket is
// written right after the TLS handshake, the others on reused sockets.
async function httpsModule() {
  const url = new URL(`${options['base-url']}/v1/chat/completions`);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 2, ca: readFileSync(process.env.NODE_EXTRA_CA_CERTS) });
  const post = (index) =>
    new Promise((resolve, reject) => {
      const request = https.request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${options['api-key']}` } },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk) => (body += chunk));
          response.on('end', () => resolve(JSON.parse(body).id));
        },
      );
      request.on('error', reject);
      request.end(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Request ${index}` }] }));
    });
  const calls = await Promise.all(
    Array.from({ length: count }, (_, index) =>
      withUserContext(userNumber(index), async () => {
        await sleep(Math.random() * 20);
        return { id: await post(index), expected: scoped(userNumber(index)) };
      }),
    ),
  );
  agent.destroy();
  return calls;
}

function invalidInput() {
  const cases = {
    'missing ctx': undefined,
    'null ctx': null,
    'array ctx': [],
    'missing userId': { email: 'a@example.com' },
    'empty userId': { userId: '' },
    'numeric userId': { userId: 42 },
    'unknown field': { userId: 'u', user_id: 'u' },
    'numeric email': { userId: 'u', email: 7 },
    'nested attrs': { userId: 'u', attrs: { address: { city: 'Oslo' } } },
    'array attr': { userId: 'u', attrs: { tags: ['a'] } },
    'null attr': { userId: 'u', attrs: { plan: null } },
    'NaN attr': { userId: 'u', attrs: { score: NaN } },
    'bigint attr': { userId: 'u', attrs: { seats: 10n } },
    'attrs not object': { userId: 'u', attrs: 'plan=pro' },
    'invalid key': { userId: 'u', attrs: { '9lives': 1 } },
    'long userId': { userId: 'x'.repeat(129) },
    'too many attrs': { userId: 'u', attrs: Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`k${index}`, index])) },
    'lone surrogate': { userId: 'u\ud800' },
  };
  const errors = {};
  for (const [name, ctx] of Object.entries(cases)) {
    for (const [api, run] of [
      ['withUserContext', () => withUserContext(ctx, () => null)],
      ['setUserContext', () => setUserContext(ctx)],
    ]) {
      if (api === 'setUserContext' && ctx === null) continue; // null clears: valid
      try {
        run();
        errors[`${api}: ${name}`] = null;
      } catch (error) {
        errors[`${api}: ${name}`] = { type: error.constructor.name, code: error.code, message: error.message };
      }
    }
  }
  try {
    withUserContext({ userId: 'u' }, 'not a function');
    errors['withUserContext: fn not a function'] = null;
  } catch (error) {
    errors['withUserContext: fn not a function'] = { type: error.constructor.name, code: error.code, message: error.message };
  }
  // Nothing leaked into the current context or the registry.
  errors.contextAfter = getUserContext() ?? null;
  errors.processRecordAfter = jamjet.diagnostics.processRecord();
  return errors;
}

const scenarios = { 'route-handler': routeHandler, cli, precedence, 'https-module': httpsModule };
const name = positionals[0];
if (name === 'invalid-input') {
  console.log(JSON.stringify({ pid: process.pid, errors: invalidInput() }));
} else if (scenarios[name]) {
  const calls = await scenarios[name]();
  const comm = readFileSync('/proc/self/comm', 'utf8').trim();
  console.log(JSON.stringify({ pid: process.pid, comm, calls }));
} else {
  throw new Error(`unknown scenario ${name}: use ${Object.keys(scenarios).join(', ')} or invalid-input`);
}
