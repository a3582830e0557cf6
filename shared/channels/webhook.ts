/**
 * The webhook node's HTTP call: POST JSON with a timeout per attempt and retries with backoff on
 * network errors, timeouts, 429 and 5xx. 4xx other than 408/429 is final: the receiver said no.
 */
export interface WebhookRequest {
  url: string;
  method?: 'POST' | 'PUT' | 'PATCH';
  headers?: Record<string, string>;
  body: unknown;
  /** Per attempt; default 5000 ms. */
  timeoutMs?: number;
  /** Attempts after the first; default 2. */
  retries?: number;
}

export interface WebhookResult {
  ok: boolean;
  /** Last HTTP status, or 0 when no response arrived (network error, timeout). */
  status: number;
  attempts: number;
  /** Why the last attempt failed, when it did (no response body: it may hold PII). */
  error?: string;
}

export interface WebhookDeps {
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Base backoff; attempt n waits base * 2^(n-1). Default 200 ms. */
  backoffMs?: number;
}

function retryable(status: number): boolean {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

export async function callWebhook(request: WebhookRequest, deps: WebhookDeps = {}): Promise<WebhookResult> {
  const doFetch = deps.fetch ?? fetch;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const backoff = deps.backoffMs ?? 200;
  const attemptsAllowed = 1 + Math.max(0, request.retries ?? 2);
  let result: WebhookResult = { ok: false, status: 0, attempts: 0 };
  for (let attempt = 1; attempt <= attemptsAllowed; attempt++) {
    if (attempt > 1) await sleep(backoff * 2 ** (attempt - 2));
    try {
      const response = await doFetch(request.url, {
        method: request.method ?? 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'cairn-webhook/1', ...request.headers },
        body: JSON.stringify(request.body),
        signal: AbortSignal.timeout(request.timeoutMs ?? 5000),
      });
      // Drain the body so the connection can be reused; its content is not kept.
      await response.arrayBuffer().catch(() => undefined);
      result = { ok: response.ok, status: response.status, attempts: attempt };
      if (!response.ok) result.error = `HTTP ${response.status}`;
    } catch (error) {
      const name = (error as Error).name;
      result = {
        ok: false,
        status: 0,
        attempts: attempt,
        error: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : `network error: ${name}`,
      };
    }
    if (result.ok || !retryable(result.status)) return result;
  }
  return result;
}
