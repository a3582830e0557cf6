import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { EmailSendError, sesEmailSender, sesTagValue } from '../../../shared/channels/email.js';

function fakeSes(fail?: string) {
  const inputs: Record<string, unknown>[] = [];
  const client = {
    async send(command: { input: Record<string, unknown> }) {
      inputs.push(command.input);
      if (fail) throw Object.assign(new Error(`${fail} happened`), { name: fail });
      return { MessageId: 'ses-1' };
    },
  } as unknown as SESv2Client;
  return { client, inputs };
}

const email = {
  to: 'ann@example.com',
  subject: 'Hi',
  html: '<p>Hi</p>',
  tags: {
    journeyId: 'cart',
    journeyVersion: '2',
    nodeId: 'reminder',
    profileId: 'p.1@x',
    execution: 'cart-v2-abc',
  },
  unsubscribeUrl: 'https://x.example/u?p=1',
};

describe('SES v2 email sender', () => {
  it('sends a simple email with the from address, tags, configuration set and one-click unsubscribe', async () => {
    const { client, inputs } = fakeSes();
    const out = await sesEmailSender(client, {
      from: 'Shop <shop@example.com>',
      configurationSetName: 'cairn',
    }).send(email);
    assert.deepEqual(out, { providerMessageId: 'ses-1' });
    const input = inputs[0] as {
      FromEmailAddress: string;
      Destination: unknown;
      Content: {
        Simple: { Subject: { Data: string }; Body: Record<string, unknown>; Headers: { Name: string }[] };
      };
      EmailTags: { Name: string; Value: string }[];
      ConfigurationSetName: string;
    };
    assert.equal(input.FromEmailAddress, 'Shop <shop@example.com>');
    assert.deepEqual(input.Destination, { ToAddresses: ['ann@example.com'] });
    assert.equal(input.Content.Simple.Subject.Data, 'Hi');
    assert.deepEqual(Object.keys(input.Content.Simple.Body), ['Html']);
    assert.deepEqual(
      input.Content.Simple.Headers.map((h) => h.Name),
      ['List-Unsubscribe', 'List-Unsubscribe-Post'],
    );
    assert.deepEqual(
      input.EmailTags.find((t) => t.Name === 'profileId'),
      { Name: 'profileId', Value: 'p_1_x' },
    );
    assert.equal(input.ConfigurationSetName, 'cairn');
  });

  it('defaults the from address and leaves the configuration set out when none is configured', async () => {
    const { client, inputs } = fakeSes();
    await sesEmailSender(client).send(email);
    assert.equal(inputs[0]!.FromEmailAddress, 'Cairn <no-reply@example.com>');
    assert.equal(inputs[0]!.ConfigurationSetName, undefined);
  });

  it('says whether a failure is worth retrying', async () => {
    for (const [name, retryable] of [
      ['TooManyRequestsException', true],
      ['InternalFailure', true],
      ['MessageRejected', false],
      ['MailFromDomainNotVerifiedException', false],
    ] as const) {
      const { client } = fakeSes(name);
      await assert.rejects(sesEmailSender(client).send(email), (error) => {
        assert.ok(error instanceof EmailSendError);
        assert.equal(error.reason, name);
        assert.equal(error.retryable, retryable);
        return true;
      });
    }
  });

  it('tag values keep only what SES accepts', () => {
    assert.equal(sesTagValue('cart-v1_x'), 'cart-v1_x');
    assert.equal(sesTagValue('a b.c@d'), 'a_b_c_d');
    assert.equal(sesTagValue(''), '_');
  });
});
