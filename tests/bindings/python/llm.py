"""LLM calls shared by the Python test applications: OpenAI and Anthropic requests sent with
httpx to the local test server, JSON or streamed, returning the response id."""

from __future__ import annotations

import json

import httpx

MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-3-5-haiku-latest"}
PATHS = {"openai": "/v1/chat/completions", "anthropic": "/v1/messages"}


def request(base_url: str, api_key: str, provider: str, prompt: str, stream: bool, end_user: str | None = None) -> dict:
    """Return httpx.Client.request/stream keyword arguments for one LLM call."""
    body: dict = {"model": MODELS[provider], "messages": [{"role": "user", "content": prompt}]}
    headers = {"content-type": "application/json"}
    if provider == "openai":
        headers["authorization"] = f"Bearer {api_key}"
        if end_user is not None:
            body["user"] = end_user
    else:
        headers["x-api-key"] = api_key
        headers["anthropic-version"] = "2023-06-01"
        body["max_tokens"] = 256
        if end_user is not None:
            body["metadata"] = {"user_id": end_user}
    if stream:
        body["stream"] = True
    return {"method": "POST", "url": base_url + PATHS[provider], "headers": headers, "content": json.dumps(body)}


def stream_response_id(lines) -> str | None:
    """Return the response id of the first event of an OpenAI or Anthropic event stream."""
    for line in lines:
        if not line.startswith("data: {"):
            continue
        event = json.loads(line[len("data: ") :])
        if "message" in event:
            return event["message"]["id"]
        return event["id"]
    return None


def call(client: httpx.Client, base_url: str, api_key: str, provider: str, prompt: str, stream: bool = False, end_user: str | None = None) -> str:
    arguments = request(base_url, api_key, provider, prompt, stream, end_user)
    if not stream:
        response = client.request(**arguments)
        response.raise_for_status()
        return response.json()["id"]
    with client.stream(**arguments) as response:
        response.raise_for_status()
        # Read the whole stream: the server records an exchange only once it has sent all of it.
        lines = list(response.iter_lines())
    return stream_response_id(lines)


async def call_async(client: httpx.AsyncClient, base_url: str, api_key: str, provider: str, prompt: str, stream: bool = False) -> str:
    arguments = request(base_url, api_key, provider, prompt, stream)
    if not stream:
        response = await client.request(**arguments)
        response.raise_for_status()
        return response.json()["id"]
    async with client.stream(**arguments) as response:
        response.raise_for_status()
        lines = [line async for line in response.aiter_lines()]
    return stream_response_id(lines)
