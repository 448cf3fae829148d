// LLM clients shared by the test applications: the official openai and @anthropic-ai/sdk
// packages pointed at the local test server. The server's certificate comes from
// NODE_EXTRA_CA_CERTS. Retries are off, so every call appears once in the server's records.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { Agent } from 'undici';

const MODELS = { openai: 'gpt-4o-mini', anthropic: 'claude-3-5-haiku-latest' };

/**
 * Returns call(provider, { stream, prompt, endUser }) -> Promise<response id>.
 * connections > 0 gives both clients one undici Agent limited to that many sockets, so that
 * concurrent calls queue for a socket.
 */
export function createLlmCaller({ baseUrl, apiKey, connections = 0 }) {
  const fetchOptions = connections > 0 ? { dispatcher: new Agent({ connections }) } : undefined;
  const common = { apiKey, maxRetries: 0, timeout: 60_000, fetchOptions };
  const openai = new OpenAI({ ...common, baseURL: `${baseUrl}/v1` });
  const anthropic = new Anthropic({ ...common, baseURL: baseUrl });

  return async function call(provider, { stream = false, prompt = 'Say hello.', endUser } = {}) {
    if (provider === 'openai') {
      const request = { model: MODELS.openai, messages: [{ role: 'user', content: prompt }] };
      if (endUser !== undefined) request.user = endUser;
      if (!stream) return (await openai.chat.completions.create(request)).id;
      let id = null;
      for await (const chunk of await openai.chat.completions.create({ ...request, stream: true })) id ??= chunk.id;
      return id;
    }
    const request = { model: MODELS.anthropic, max_tokens: 256, messages: [{ role: 'user', content: prompt }] };
    if (endUser !== undefined) request.metadata = { user_id: endUser };
    if (!stream) return (await anthropic.messages.create(request)).id;
    let id = null;
    for await (const event of await anthropic.messages.create({ ...request, stream: true })) {
      if (event.type === 'message_start') id = event.message.id;
    }
    return id;
  };
}

export function sleep(milliseconds) {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
