import assert from 'node:assert/strict';
import { type Issue, ValidationError } from '../../shared/errors.js';

/** The issues of the ValidationError `fn` throws; fails the test when it throws anything else or nothing. */
export function issuesOf(fn: () => unknown): Issue[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ValidationError, `expected ValidationError, got ${String(error)}`);
    return error.issues;
  }
  assert.fail('expected a ValidationError');
}
