import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { presenceKey } from '../../../shared/profiles/dynamodb.js';
import { splitJourneyState } from '../../../shared/runtime/presence-store.js';
import type { EntryRecord, PresenceRecord } from '../../../shared/runtime/types.js';

/** Every field set: a field added to PresenceRecord fails to compile here until the reader reads it. */
const presence: Required<PresenceRecord> = {
  profileId: 'p1',
  executionName: 'cart-v1-abc',
  executionArn: 'arn:aws:states:us-east-1:000000000000:execution:cairn-cart:cart-v1-abc',
  journeyId: 'cart',
  version: 1,
  enteredAt: 1_000,
  triggerMessageId: 'm1',
  goal: { event: 'Order Completed', where: { properties: { total: [{ numeric: ['>', 0] }] } }, until: 9_000 },
  exitOn: [{ event: 'Unsubscribed' }, { event: 'Cart Emptied', where: { properties: { cartId: ['c1'] } } }],
  waiting: {
    nodeId: 'wait',
    event: 'Checkout Started',
    where: { properties: { step: [1] } },
    match: { cartId: 'c1' },
    token: 'token-1',
    since: 2_000,
    expiresAt: 3_000,
  },
  entryData: true,
};

const entry: EntryRecord = {
  profileId: 'p1',
  journeyId: 'cart',
  lastEnteredAt: 1_000,
  lastExecution: 'cart-v1-abc',
  entries: 2,
  runs: { launch: 'run-1 slot-a' },
};

describe('journey items read back (splitJourneyState)', () => {
  it('reads a stored presence item into the record that was written, every field', () => {
    const item = { ...presenceKey('p1', presence.executionName), kind: 'journey-presence', ...presence };
    assert.deepEqual(splitJourneyState([item]), { presence: [presence], entries: [] });
  });

  it("reads the profile store's items (sort key stripped) the same way, entry records apart", () => {
    const { executionName, ...attributes } = presence;
    const items = [
      { ...attributes, kind: 'journey-presence', executionName },
      {
        executionName: 'entry#cart',
        kind: 'journey-entry',
        profileId: 'p1',
        journeyId: 'cart',
        lastEnteredAt: 1_000,
        lastExecution: 'cart-v1-abc',
        entries: 2,
        'run#launch': 'run-1 slot-a',
      },
    ];
    assert.deepEqual(splitJourneyState(items), { presence: [presence], entries: [entry] });
  });

  it('leaves out what a presence item does not hold (no goal, no exit events, not waiting)', () => {
    const { goal: _g, exitOn: _e, waiting: _w, executionArn: _a, ...bare } = presence;
    const item = { ...presenceKey('p1', presence.executionName), ...bare };
    assert.deepEqual(splitJourneyState([item]).presence, [bare]);
  });
});
