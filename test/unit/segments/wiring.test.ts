import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NormalizedMessage } from '../../../shared/events/normalize.js';
import { activeSegment, affectedSegments } from '../../../shared/segments/engine.js';
import { changeOf } from '../../../shared/segments/wiring.js';

/** What an ingested event can change for segments, and so which segments it re-evaluates. */

const message = (fields: Partial<NormalizedMessage>) =>
  ({ type: 'track', messageId: 'm', traits: {}, properties: {}, ...fields }) as NormalizedMessage;

const segments = [
  activeSegment({ id: 'pro', name: 'pro', where: { traits: { plan: ['pro'] } } }),
  activeSegment({ id: 'opted-out', name: 'o', where: { traits: { unsubscribed: [true] } } }),
  activeSegment({ id: 'buyers', name: 'b', where: { performed: { event: 'Order Completed' } } }),
  activeSegment({ id: 'active', name: 'a', where: { lastSeen: { within: 'P7D' } } }),
  activeSegment({
    id: 'pro-buyers',
    name: 'pb',
    where: { all: [{ segment: 'pro' }, { segment: 'buyers' }] },
  }),
];
const affected = (change: ReturnType<typeof changeOf>) => affectedSegments(segments, change).map((s) => s.id);

describe('which segments an ingested event re-evaluates', () => {
  it('an identify: the segments reading its trait keys, activity ones, and the segments reading those', () => {
    assert.deepEqual(affected(changeOf(message({ type: 'identify', traits: { plan: 'pro' } }), [])), [
      'pro',
      'active',
      'pro-buyers',
    ]);
  });

  it('a track: the segments reading that event name', () => {
    assert.deepEqual(affected(changeOf(message({ event: 'Order Completed' }), [])), [
      'buyers',
      'active',
      'pro-buyers',
    ]);
    assert.deepEqual(affected(changeOf(message({ event: 'Page Viewed' }), [])), ['active']);
  });

  it('an unsubscribe (its Unsubscribed event) re-evaluates the segments reading the unsubscribed trait', () => {
    assert.deepEqual(affected(changeOf(message({ event: 'Unsubscribed' }), [])), ['opted-out', 'active']);
  });

  it('a merge, or a redelivery that may have merged, re-evaluates everything', () => {
    const all = segments.map((s) => s.id);
    assert.deepEqual(affected(changeOf(message({ event: 'Page Viewed' }), ['other-profile'])), all);
    assert.deepEqual(affected(changeOf(message({ event: 'Page Viewed' }), [], true)), all);
  });
});
