// Sends chat completions with the official openai package and prints the response ids as JSON.
//
// Usage: node openai_client.mjs --base-url URL --model M --api-key KEY [--stream]
//        [--include-usage] [--count N]
// The server's certificate comes from NODE_EXTRA_CA_CERTS. Retries are off, so every
// request the SDK sends appears once in the server's records.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import process from 'node:process';
import OpenAI from 'openai';

const { values: options } = parseArgs({
  options: {
    'base-url': { type: 'string' },
    model: { type: 'string' },
    'api-key': { type: 'string' },
    stream: { type: 'boolean', default: false },
    'include-usage': { type: 'boolean', default: false },
    count: { type: 'string', default: '1' },
  },
});
for (const name of ['base-url', 'model', 'api-key']) {
  if (!options[name]) throw new Error(`missing required option --${name}`);
}

const client = new OpenAI({
  apiKey: options['api-key'],
  baseURL: `${options['base-url']}/v1`,
  maxRetries: 0,
  timeout: 30_000,
  defaultHeaders: { Cookie: `session=${options['api-key']}-cookie` },
});

const responses = [];
for (let index = 0; index < Number(options.count); index++) {
  const request = {
    model: options.model,
    messages: [{ role: 'user', content: `Request ${index} from node pid ${process.pid}: say hello.` }],
  };
  if (options.stream) {
    request.stream = true;
    if (options['include-usage']) request.stream_options = { include_usage: true };
    let id = null;
    for await (const chunk of await client.chat.completions.create(request)) {
      id ??= chunk.id;
    }
    responses.push({ status: 200, id });
  } else {
    const completion = await client.chat.completions.create(request);
    responses.push({ status: 200, id: completion.id });
  }
}
// The requests run on the main thread, whose thread id equals the pid.
const comm = readFileSync('/proc/self/comm', 'utf8').trim();
console.log(JSON.stringify({ pid: process.pid, thread_id: process.pid, comm, responses }));
