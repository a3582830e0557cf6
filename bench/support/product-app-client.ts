/** The parent side of the benchmark's product app (bench/support/product-app.ts, a worker thread). */
import { Worker } from 'node:worker_threads';

export interface ProductAppOptions {
  edgeUrl: string;
  busName: string;
}

export interface ProductAppJob {
  id: number;
  messages: Record<string, unknown>[];
  /** `burst`: `senders` PutEvents calls in flight, as fast as they go; `paced`: one call every `intervalMs`. */
  mode: 'burst' | 'paced';
  senders?: number;
  intervalMs?: number;
}

export interface ProductAppResult {
  id: number;
  /** Start time (wallNow) of each message's PutEvents call, in the order of `messages`. */
  sentAt: Float64Array;
  error?: string;
}

/** Wall-clock ms with sub-ms precision, comparable between threads. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

export class ProductApp {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, (result: ProductAppResult) => void>();
  private nextId = 0;

  constructor(options: ProductAppOptions) {
    // The worker loads TypeScript the way the benchmark does: tsx's loader, registered in the worker.
    const tsx = import.meta.resolve('tsx/esm/api');
    const main = new URL('./product-app.ts', import.meta.url).href;
    const boot = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(main)}); })`;
    this.worker = new Worker(boot, { eval: true, workerData: options });
    this.worker.on('message', (result: ProductAppResult) => {
      this.waiting.get(result.id)?.(result);
      this.waiting.delete(result.id);
    });
    this.worker.on('error', (error) => {
      for (const done of this.waiting.values())
        done({ id: -1, sentAt: new Float64Array(0), error: String(error) });
      this.waiting.clear();
    });
  }

  /** Sends `messages` (10 per PutEvents call); resolves with each message's send time once all were accepted. */
  async run(
    messages: Record<string, unknown>[],
    mode: { mode: 'burst'; senders: number } | { mode: 'paced'; intervalMs: number },
  ): Promise<Float64Array> {
    const id = this.nextId++;
    const result = await new Promise<ProductAppResult>((resolve) => {
      this.waiting.set(id, resolve);
      this.worker.postMessage({ id, messages, ...mode } satisfies ProductAppJob);
    });
    if (result.error) throw new Error(`product app: ${result.error}`);
    return result.sentAt;
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
