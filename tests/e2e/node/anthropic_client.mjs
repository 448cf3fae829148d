// Sends messages with the official @anthropic-ai/sdk package and prints the response ids as JSON.
//
// Usage: node anthropic_client.mjs --base-url URL --model M --api-key KEY [--stream] [--count N]
// The server's certificate comes from NODE_EXTRA_CA_CERTS. Retries are off, so every
// request the SDK sends appears once in the server's records.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import process from 'node:process';
import Anthropic from '@anthropic-ai/sdk';

const { values: options } = parseArgs({
  options: {
    'base-url': { type: 'string' },
    model: { type: 'string' },
    'api-key': { type: 'string' },
    stream: { type: 'boolean', default: false },
    count: { type: 'string', default: '1' },
  },
});
for (const name of ['base-url', 'model', 'api-key']) {
  if (!options[name]) throw new Error(`missing required option --${name}`);
}

const client = new Anthropic({
  apiKey: options['api-key'],
  baseURL: options['base-url'],
  maxRetries: 0,
  timeout: 30_000,
  defaultHeaders: { Cookie: `session=${options['api-key']}-cookie` },
});

const responses = [];
for (let index = 0; index < Number(options.count); index++) {
  const request = {
    model: options.model,
    max_tokens: 256,
    messages: [{ role: 'user', content: `Request ${index} from node pid ${process.pid}: say hello.` }],
  };
  if (options.stream) {
    let id = null;
    for await (const event of await client.messages.create({ ...request, stream: true })) {
      if (event.type === 'message_start') id = event.message.id;
    }
    responses.push({ status: 200, id });
  } else {
    const message = await client.messages.create(request);
    responses.push({ status: 200, id: message.id });
  }
}
// The requests run on the main thread, whose thread id equals the pid.
const comm = readFileSync('/proc/self/comm', 'utf8').trim();
console.log(JSON.stringify({ pid: process.pid, thread_id: process.pid, comm, responses }));
