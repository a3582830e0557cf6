import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emailChannel } from '../../../shared/channels/email.js';
import { ManualClock } from '../../../shared/clock.js';
import { parseMessage } from '../../../shared/events/index.js';
import { identifiersOf, normalizeEmail } from '../../../shared/identity/index.js';

describe('an email identity is exactly one mailbox', () => {
  test('lists, display names, quotes and other multi-recipient forms are not addresses', () => {
    const email = emailChannel({ send: async () => ({ providerMessageId: 'x' }) });
    for (const text of [
      'a@example.com,b@evil.example',
      'a@example.com;b@evil.example',
      'a,b@example.com',
      'Ann <a@example.com>',
      '"a b"@example.com',
      'a@example.com b@evil.example',
      'a@localhost',
      'a..b@example.com',
      'a@example.com (comment)',
    ]) {
      assert.equal(normalizeEmail(text), undefined, text);
      assert.deepEqual(
        email.addresses({ profileId: 'p', traits: { email: text } }),
        { addresses: [], problem: 'the email trait is not one mailbox' },
        text,
      );
    }
    assert.equal(normalizeEmail(' Ann.Lee+news@Example.COM '), 'ann.lee+news@example.com');
    assert.equal(normalizeEmail('josé@exämple.de'), 'josé@exämple.de');
  });

  test('an identify with a list of addresses stores no email identity', () => {
    const clock = new ManualClock();
    const message = parseMessage(
      { type: 'identify', userId: 'u', traits: { email: 'a@example.com,b@evil.example' } },
      { clock, ids: { next: () => 'm' } },
    );
    assert.deepEqual(identifiersOf(message), [{ type: 'userId', value: 'u' }]);
  });
});
