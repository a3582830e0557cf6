import { startLocalStack } from '../../infra/local/stack.js';

/**
 * A local stack in memory on free ports whose virtual time moves only when the benchmark advances
 * it, and `call` for its HTTP API: the write key for `/v1/*`, the API token otherwise; JSON bodies
 * (a string is sent as is, with `contentType`). A status ≥ 300 throws with the answer.
 */
export async function startBenchStack() {
  const stack = await startLocalStack({
    memory: true,
    httpPort: 0,
    edgePort: 0,
    keepProcessAlive: false,
    timeScale: 0,
  });
  const call = async (method: string, path: string, body?: unknown, contentType = 'application/json') => {
    const authorization = path.startsWith('/v1/')
      ? `Basic ${Buffer.from('dev-write-key:').toString('base64')}`
      : 'Bearer dev-token';
    const res = await fetch(`${stack.httpUrl}${path}`, {
      method,
      headers: { authorization, 'content-type': contentType },
      body: typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  return { stack, call };
}
