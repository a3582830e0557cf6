/**
 * The local stack for integration and e2e tests. `test/run.ts` starts one for the whole run and
 * passes its URLs in the environment; a test file run on its own starts its own.
 */
export interface TestStackEnv {
  httpUrl: string;
  edgeUrl: string;
}

export async function startTestStack(
  options: { keepProcessAlive?: boolean } = {},
): Promise<{ env: Record<string, string>; stop: () => Promise<void> }> {
  const { startLocalStack } = await import('../../infra/local/stack.js');
  const stack = await startLocalStack({ memory: true, httpPort: 0, edgePort: 0, ...options });
  return { env: stack.env, stop: stack.stop };
}

let started: Promise<TestStackEnv> | undefined;

/** The running stack's URLs; starts one in this process when the runner did not. */
export function testStack(): Promise<TestStackEnv> {
  const httpUrl = process.env.CAIRN_TEST_HTTP_URL;
  const edgeUrl = process.env.CAIRN_TEST_EDGE_URL;
  if (httpUrl && edgeUrl) return Promise.resolve({ httpUrl, edgeUrl });
  // Started here for this file only: it must not keep the test process alive (it stops on beforeExit).
  started ??= startTestStack({ keepProcessAlive: false }).then(({ env }) => {
    return { httpUrl: env.CAIRN_TEST_HTTP_URL!, edgeUrl: env.CAIRN_TEST_EDGE_URL! };
  });
  return started;
}
