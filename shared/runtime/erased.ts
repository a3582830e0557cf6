import { notErasedCheck } from '../profiles/dynamodb.js';

/**
 * Writes that would put items back under an erased profile are refused: each carries a
 * ConditionCheck that the profile's erasure tombstone (shared/profiles/erasure.ts) is absent, in the
 * transaction it already is (or becomes one: same request count, +1 item, 2 WCU). The profile
 * store's own writes need none: they are conditioned on the profile item's version, which the
 * erasure's mark moves (ProfileStore.markErased).
 */

/** Defined with the profile store, which refuses its own writes the same way. */
export { ProfileErasedError } from '../profiles/store.js';

/** A transaction item that fails when the profile was erased (its tombstone exists). */
export const notErased = notErasedCheck;
