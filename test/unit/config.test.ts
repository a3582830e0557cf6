import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, integerFromEnv } from '../../shared/config.js';

describe('integerFromEnv', () => {
  it('reads an integer, and uses the fallback when unset or empty', () => {
    assert.equal(integerFromEnv({ N: '25' }, 'N', 10, 1), 25);
    assert.equal(integerFromEnv({}, 'N', 10, 1), 10);
    assert.equal(integerFromEnv({ N: ' ' }, 'N', 10, 1), 10);
  });

  it('refuses a value that is not an integer or below the minimum, naming the variable', () => {
    for (const bad of ['abc', '2.5', '0']) {
      assert.throws(
        () => integerFromEnv({ CAIRN_INGEST_CONCURRENCY: bad }, 'CAIRN_INGEST_CONCURRENCY', 10, 1),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.message.includes('CAIRN_INGEST_CONCURRENCY') &&
          error.message.includes(JSON.stringify(bad)),
      );
    }
  });
});
