import { ConflictError } from '../errors.js';
import { erasedKey } from '../profiles/dynamodb.js';

/**
 * Writes that would put items back under an erased profile are refused: each carries a
 * ConditionCheck that the profile's erasure tombstone (shared/profiles/erasure.ts) is absent, in the
 * transaction it already is (or becomes one: same request count, +1 item, 2 WCU).
 */

/**
 * The profile a write would put items under was erased (its tombstone exists): the write is refused
 * as a whole, so nothing of the person comes back. Not worth retrying.
 */
export class ProfileErasedError extends ConflictError {
  constructor(readonly profileId: string) {
    super(`profile ${profileId} was erased`);
  }
}

/** A transaction item that fails when the profile was erased (its tombstone exists). */
export function notErased(profilesTable: string, profileId: string) {
  return {
    ConditionCheck: {
      TableName: profilesTable,
      Key: erasedKey(profileId),
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}
