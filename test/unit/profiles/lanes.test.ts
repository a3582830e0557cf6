import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NormalizedMessage } from '../../../shared/events/normalize.js';
import { personLanes } from '../../../shared/profiles/index.js';

const item = (
  name: string,
  ids: Partial<Pick<NormalizedMessage, 'userId' | 'anonymousId' | 'previousId'>>,
) => ({
  name,
  message: { type: 'track', messageId: name, ...ids } as NormalizedMessage,
});
const names = (lanes: { name: string }[][]) => lanes.map((lane) => lane.map((i) => i.name));

describe('personLanes', () => {
  it('puts events sharing any sender id in one lane, in batch order', () => {
    const lanes = personLanes([
      item('identify', { userId: 'u', anonymousId: 'a' }),
      item('other', { userId: 'v' }),
      item('track-by-user', { userId: 'u' }),
      item('page-by-anon', { anonymousId: 'a' }),
    ]);
    assert.deepEqual(names(lanes), [['identify', 'track-by-user', 'page-by-anon'], ['other']]);
  });

  it('joins lanes an event links later (anonymous, then known, then the alias that links them)', () => {
    const lanes = personLanes([
      item('anon', { anonymousId: 'a' }),
      item('known', { userId: 'u' }),
      item('alias', { userId: 'u', previousId: 'a' }),
      item('stranger', { anonymousId: 'z' }),
    ]);
    assert.deepEqual(names(lanes), [['anon', 'known', 'alias'], ['stranger']]);
  });
});
