import { after, before } from 'node:test';
import { testStack } from '../../support/stack.js';
import { apiClient } from '../api/client.js';

/**
 * The messaging tests' stack: its URL and API client once `before` ran, with `policy` stored for
 * the tests of the calling describe (when given) and the policy found before put back after them.
 */
export function messagingStack(policy?: Record<string, unknown>) {
  const stack = { httpUrl: '', api: apiClient('http://127.0.0.1:0') };
  let original: unknown;
  before(async () => {
    stack.httpUrl = (await testStack()).httpUrl;
    stack.api = apiClient(stack.httpUrl);
    original = (await stack.api.get('/messaging/policy')).body;
    if (policy) {
      const stored = await stack.api.put('/messaging/policy', policy);
      if (stored.status !== 200) throw new Error(`PUT /messaging/policy → ${stored.status}`);
    }
  });
  after(async () => {
    await stack.api.put('/messaging/policy', original);
  });
  return stack;
}
