import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLocalSes, type SesEventPublisher } from '../../../infra/local/ses.js';

type Published = Parameters<SesEventPublisher['publishAsService']>[0];

function sesWithEvents() {
  const published: Published[] = [];
  const ses = createLocalSes({ events: { publishAsService: (entry) => published.push(entry) } });
  return { ses, published };
}

const send = (to: string, configurationSet: string | null = 'cairn') => ({
  FromEmailAddress: 'no-reply@example.com',
  Destination: { ToAddresses: [to] },
  Content: { Simple: { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } } },
  EmailTags: [
    { Name: 'journeyId', Value: 'welcome' },
    { Name: 'nodeId', Value: 'welcome-email' },
  ],
  ConfigurationSetName: configurationSet ?? undefined,
});

describe('local SES event publishing (configuration set → EventBridge, as SES does)', () => {
  it('publishes Email Sent and Email Delivered with the message id and tags', async () => {
    const { ses, published } = sesWithEvents();
    const { MessageId } = await ses.sendEmail(send('ada@example.com'));
    assert.deepEqual(
      published.map((e) => [e.Source, e.DetailType, e.EventBusName]),
      [
        ['aws.ses', 'Email Sent', 'default'],
        ['aws.ses', 'Email Delivered', 'default'],
      ],
    );
    const delivered = JSON.parse(published[1]!.Detail) as {
      eventType: string;
      mail: { messageId: string; tags: Record<string, string[]> };
      delivery: { recipients: string[] };
    };
    assert.equal(delivered.eventType, 'Delivery');
    assert.equal(delivered.mail.messageId, MessageId);
    assert.deepEqual(delivered.mail.tags.journeyId, ['welcome']);
    assert.deepEqual(delivered.mail.tags['ses:configuration-set'], ['cairn']);
    assert.deepEqual(delivered.delivery.recipients, ['ada@example.com']);
  });

  it('bounces and complains for the SES mailbox simulator addresses', async () => {
    const { ses, published } = sesWithEvents();
    await ses.sendEmail(send('bounce@simulator.amazonses.com'));
    await ses.sendEmail(send('complaint@simulator.amazonses.com'));
    assert.deepEqual(
      published.map((e) => e.DetailType),
      ['Email Sent', 'Email Bounced', 'Email Sent', 'Email Complaint Received'],
    );
    const bounce = JSON.parse(published[1]!.Detail) as { bounce: { bounceType: string } };
    assert.equal(bounce.bounce.bounceType, 'Permanent');
  });

  it('publishes nothing without a configuration set', async () => {
    const { ses, published } = sesWithEvents();
    await ses.sendEmail(send('ada@example.com', null));
    assert.equal(published.length, 0);
    assert.equal(ses.outbox().length, 1);
  });
});
