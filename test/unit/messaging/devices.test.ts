import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  deviceFromContext,
  maxDevices,
  mergeDevices,
  rememberDevice,
} from '../../../shared/channels/push/devices.js';

describe('push devices from context.device', () => {
  it('reads the token and platform of the Segment spec, any case of type', () => {
    assert.deepEqual(deviceFromContext({ device: { token: 'abc', type: 'iOS' } }, '2026-12-01T00:00:00Z'), {
      token: 'abc',
      platform: 'ios',
      lastSeen: '2026-12-01T00:00:00Z',
    });
    assert.equal(deviceFromContext({ device: { token: 'abc', type: 'android' } }, 't')?.platform, 'android');
  });

  it('ignores a context without a token or with an unknown platform', () => {
    for (const context of [
      undefined,
      {},
      { device: 'x' },
      { device: { type: 'ios' } },
      { device: { token: 'a', type: 'tv' } },
    ])
      assert.equal(deviceFromContext(context as Record<string, unknown> | undefined, 't'), undefined);
  });

  it('keeps each token once, newest first, at most maxDevices', () => {
    let devices = rememberDevice([], { token: 'a', platform: 'ios', lastSeen: '2026-01-01' });
    devices = rememberDevice(devices, { token: 'b', platform: 'android', lastSeen: '2026-01-02' });
    devices = rememberDevice(devices, { token: 'a', platform: 'ios', lastSeen: '2026-01-03' });
    assert.deepEqual(
      devices.map((d) => d.token),
      ['a', 'b'],
    );
    for (let i = 0; i < 20; i++)
      devices = rememberDevice(devices, {
        token: `t${i}`,
        platform: 'ios',
        lastSeen: `2026-02-${String(i + 1).padStart(2, '0')}`,
      });
    assert.equal(devices.length, maxDevices);
    assert.equal(devices[0]?.token, 't19');
  });

  it('a merge keeps both profiles’ devices', () => {
    const merged = mergeDevices(
      [{ token: 'a', platform: 'ios', lastSeen: '2026-01-01' }],
      [
        { token: 'b', platform: 'android', lastSeen: '2026-01-02' },
        { token: 'a', platform: 'ios', lastSeen: '2026-01-05' },
      ],
    );
    assert.deepEqual(
      merged.map((d) => [d.token, d.lastSeen]),
      [
        ['a', '2026-01-05'],
        ['b', '2026-01-02'],
      ],
    );
  });
});
