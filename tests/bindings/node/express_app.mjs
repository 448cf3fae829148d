// Express application whose authentication middleware runs each request inside
// withUserContext(), as an application would use the binding.
//
// Usage: node express_app.mjs --base-url URL --api-key KEY --port-file FILE [--connections N]
// POST /chat with the user in x-user-id, x-user-email, x-user-plan, x-user-seats and
// x-user-admin headers, and a JSON body
//   { provider: 'openai' | 'anthropic', stream, delayMs, mode: 'direct' | 'nested' | 'timeout' }
// answers { id: <LLM response id>, userId }. The server listens on 127.0.0.1 (plain HTTP) and
// writes its port to --port-file once it listens.
import { writeFileSync, renameSync } from 'node:fs';
import { parseArgs } from 'node:util';
import express from 'express';
import jamjet from 'jamjet';

import { createLlmCaller, sleep } from './llm.mjs';

const { values: options } = parseArgs({
  options: {
    'base-url': { type: 'string' },
    'api-key': { type: 'string' },
    'port-file': { type: 'string' },
    connections: { type: 'string', default: '0' },
  },
});
const callLlm = createLlmCaller({
  baseUrl: options['base-url'],
  apiKey: options['api-key'],
  connections: Number(options.connections),
});

// A helper two calls deep, as application code often is.
async function summarize(provider, stream, prompt) {
  return await askModel(provider, stream, `Summarize: ${prompt}`);
}
async function askModel(provider, stream, prompt) {
  await sleep(1);
  return callLlm(provider, { stream, prompt });
}

const app = express();
app.use(express.json());
app.use((req, res, next) => {
  const userId = req.get('x-user-id');
  if (!userId) {
    res.status(401).json({ error: 'x-user-id is missing' });
    return;
  }
  const user = {
    userId,
    email: req.get('x-user-email'),
    attrs: { plan: req.get('x-user-plan'), seats: Number(req.get('x-user-seats')), admin: req.get('x-user-admin') === 'true' },
  };
  withUserContextOrFail(user, next, res);
});

function withUserContextOrFail(user, next, res) {
  try {
    jamjet.withUserContext(user, next);
  } catch (error) {
    res.status(400).json({ error: error.message });
  }
}

app.post('/chat', async (req, res) => {
  const { provider, stream = false, delayMs = 0, mode = 'direct' } = req.body;
  const prompt = `Request ${req.get('x-request-number')} for ${req.get('x-user-id')}`;
  try {
    await sleep(delayMs);
    let id;
    if (mode === 'nested') {
      id = await summarize(provider, stream, prompt);
    } else if (mode === 'timeout') {
      id = await new Promise((resolve, reject) => {
        setTimeout(() => callLlm(provider, { stream, prompt }).then(resolve, reject), 2);
      });
    } else {
      id = await callLlm(provider, { stream, prompt });
    }
    res.json({ id, userId: jamjet.getUserContext()?.userId ?? null });
  } catch (error) {
    res.status(500).json({ error: String(error?.stack ?? error) });
  }
});

const server = app.listen(0, '127.0.0.1', () => {
  const file = options['port-file'];
  writeFileSync(`${file}.tmp`, String(server.address().port));
  renameSync(`${file}.tmp`, file);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
