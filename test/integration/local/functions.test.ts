import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FunctionNotFoundError,
  FunctionTimeoutError,
  functionArn,
  functionName,
  invokeFunction,
  registerFunction,
  resolveFunction,
} from '../../../infra/local/functions.js';

describe('local Lambda registry', () => {
  it('resolves names, ARNs and qualified ARNs to the same function', () => {
    assert.equal(functionArn('cairn-step'), 'arn:aws:lambda:us-east-1:000000000000:function:cairn-step');
    assert.equal(functionName('cairn-step'), 'cairn-step');
    assert.equal(functionName(functionArn('cairn-step')), 'cairn-step');
    assert.equal(functionName(`${functionArn('cairn-step')}:$LATEST`), 'cairn-step');
    assert.equal(functionName('cairn-step:live'), 'cairn-step');
  });

  it('loads the handler exported by functions/<name>/handler.ts', async () => {
    const handler = await resolveFunction(functionArn('cairn-ingest'));
    assert.equal(typeof handler, 'function');
    assert.equal(await resolveFunction('cairn-ingest'), handler, 'loaded once, like a warm container');
  });

  it('refuses a function that has no handler file', async () => {
    await assert.rejects(resolveFunction('cairn-nope'), FunctionNotFoundError);
    await assert.rejects(resolveFunction('someone-else'), FunctionNotFoundError);
  });

  it('invokes with a Lambda context and fails an invocation that runs past its timeout', async () => {
    const undo = registerFunction('cairn-test-stub', async (event: { wait?: number }, context) => {
      if (event.wait) await new Promise((r) => setTimeout(r, event.wait));
      return {
        name: context.functionName,
        arn: context.invokedFunctionArn,
        left: context.getRemainingTimeInMillis(),
      };
    });
    try {
      const result = (await invokeFunction(functionArn('cairn-test-stub'), {}, { timeoutMs: 5000 })) as {
        name: string;
        arn: string;
        left: number;
      };
      assert.equal(result.name, 'cairn-test-stub');
      assert.equal(result.arn, functionArn('cairn-test-stub'));
      assert.ok(result.left > 0 && result.left <= 5000);
      await assert.rejects(
        invokeFunction('cairn-test-stub', { wait: 200 }, { timeoutMs: 20 }),
        FunctionTimeoutError,
      );
    } finally {
      undo();
    }
    await assert.rejects(resolveFunction('cairn-test-stub'), FunctionNotFoundError);
  });
});
