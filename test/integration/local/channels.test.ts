import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ConflictException,
  DeleteOptedOutNumberCommand,
  PinpointSMSVoiceV2Client,
  PutOptedOutNumberCommand,
  SendTextMessageCommand,
  ValidationException,
} from '@aws-sdk/client-pinpoint-sms-voice-v2';
import {
  CreatePlatformEndpointCommand,
  EndpointDisabledException,
  GetEndpointAttributesCommand,
  PublishCommand,
  SetEndpointAttributesCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import { uniqueId, useStackClients } from '../../support/local.js';

interface Captured {
  channel: string;
  messageId: string;
  to: string;
  text?: string;
  parts?: number;
  encoding?: string;
  title?: string | null;
  body?: string | null;
  data?: Record<string, unknown> | null;
  journeyId?: string | null;
  nodeId?: string | null;
}

describe('the edge speaks End User Messaging SMS and SNS mobile push (real SDK clients)', () => {
  const stack = useStackClients((config) => ({
    sms: new PinpointSMSVoiceV2Client(config),
    sns: new SNSClient(config),
  }));

  const outbox = async (query: string): Promise<Captured[]> =>
    ((await (await fetch(`${stack.httpUrl}/local/outbox?${query}`)).json()) as { messages: Captured[] })
      .messages;

  it('captures SendTextMessage with its encoding and parts, filterable by channel', async () => {
    const journeyId = uniqueId('sms');
    const { MessageId } = await stack.sms.send(
      new SendTextMessageCommand({
        DestinationPhoneNumber: '+33612345678',
        MessageBody: `Bonjour 😀 ${'x'.repeat(70)}`,
        MessageType: 'PROMOTIONAL',
        Context: { journeyId, nodeId: 'hello', journeyVersion: '3' },
      }),
    );
    const [captured] = await outbox(`channel=sms&journeyId=${journeyId}`);
    assert.equal(captured?.messageId, MessageId);
    assert.equal(captured?.to, '+33612345678');
    assert.equal(captured?.encoding, 'UCS-2');
    assert.equal(captured?.parts, 2);
    assert.equal(captured?.nodeId, 'hello');
    assert.deepEqual(await outbox(`channel=email&journeyId=${journeyId}`), []);
  });

  it('refuses what the service refuses, with its error types', async () => {
    await assert.rejects(
      stack.sms.send(new SendTextMessageCommand({ DestinationPhoneNumber: '0612345678', MessageBody: 'hi' })),
      (error: unknown) => error instanceof ValidationException && /E\.164/.test(error.message),
    );
    await assert.rejects(
      stack.sms.send(
        new SendTextMessageCommand({
          DestinationPhoneNumber: '+33612345678',
          MessageBody: 'hi',
          Context: { a: '1', b: '2', c: '3', d: '4', e: '5', f: '6' },
        }),
      ),
      ValidationException,
    );
  });

  it('refuses a number on the opt-out list with ConflictException until it is taken off', async () => {
    const number = '+33699999999';
    await stack.sms.send(new PutOptedOutNumberCommand({ OptOutListName: 'Default', OptedOutNumber: number }));
    await assert.rejects(
      stack.sms.send(new SendTextMessageCommand({ DestinationPhoneNumber: number, MessageBody: 'hi' })),
      ConflictException,
    );
    await stack.sms.send(
      new DeleteOptedOutNumberCommand({ OptOutListName: 'Default', OptedOutNumber: number }),
    );
    const { MessageId } = await stack.sms.send(
      new SendTextMessageCommand({ DestinationPhoneNumber: number, MessageBody: 'hi' }),
    );
    assert.ok(MessageId);
  });

  it('creates one platform endpoint per token and publishes the platform payload', async () => {
    const application = 'arn:aws:sns:us-east-1:000000000000:app/APNS/cairn-local';
    const token = uniqueId('device');
    const first = await stack.sns.send(
      new CreatePlatformEndpointCommand({ PlatformApplicationArn: application, Token: token }),
    );
    const again = await stack.sns.send(
      new CreatePlatformEndpointCommand({ PlatformApplicationArn: application, Token: token }),
    );
    assert.ok(first.EndpointArn?.includes(':endpoint/APNS/cairn-local/'));
    assert.equal(again.EndpointArn, first.EndpointArn, 'idempotent for the same token');
    const apns = { aps: { alert: { title: 'Your cart', body: 'Still thinking?' } }, cartId: 'c-1' };
    const { MessageId } = await stack.sns.send(
      new PublishCommand({
        TargetArn: first.EndpointArn,
        MessageStructure: 'json',
        Message: JSON.stringify({ default: 'Still thinking?', APNS: JSON.stringify(apns) }),
        MessageAttributes: { nodeId: { DataType: 'String', StringValue: 'nudge' } },
      }),
    );
    const [captured] = await outbox(`channel=push&to=${token}`);
    assert.equal(captured?.messageId, MessageId);
    assert.equal(captured?.title, 'Your cart');
    assert.equal(captured?.body, 'Still thinking?');
    assert.deepEqual(captured?.data, { cartId: 'c-1' });
    assert.equal(captured?.nodeId, 'nudge');
  });

  it('disables the endpoint of a token the platform rejects, and publishing then fails', async () => {
    const application = 'arn:aws:sns:us-east-1:000000000000:app/GCM/cairn-local';
    const { EndpointArn } = await stack.sns.send(
      new CreatePlatformEndpointCommand({ PlatformApplicationArn: application, Token: uniqueId('invalid-') }),
    );
    const publish = () =>
      stack.sns.send(
        new PublishCommand({
          TargetArn: EndpointArn,
          MessageStructure: 'json',
          Message: JSON.stringify({ default: 'x', GCM: JSON.stringify({ notification: { body: 'x' } }) }),
        }),
      );
    await assert.rejects(publish(), EndpointDisabledException);
    const attributes = await stack.sns.send(new GetEndpointAttributesCommand({ EndpointArn }));
    assert.equal(attributes.Attributes?.Enabled, 'false');
    await stack.sns.send(new SetEndpointAttributesCommand({ EndpointArn, Attributes: { Enabled: 'true' } }));
    assert.equal(
      (await stack.sns.send(new GetEndpointAttributesCommand({ EndpointArn }))).Attributes?.Enabled,
      'true',
    );
  });
  it('refuses a platform payload over 4096 bytes (APNs and FCM) and a message over 256 KB, the endpoint left enabled', async () => {
    const application = 'arn:aws:sns:us-east-1:000000000000:app/APNS/cairn-local';
    const { EndpointArn } = await stack.sns.send(
      new CreatePlatformEndpointCommand({ PlatformApplicationArn: application, Token: uniqueId('big') }),
    );
    /** An APNs payload of exactly `bytes` bytes. */
    const apns = (bytes: number) => {
      const empty = JSON.stringify({ aps: { alert: { title: 't', body: '' } } });
      return JSON.stringify({ aps: { alert: { title: 't', body: 'x'.repeat(bytes - empty.length) } } });
    };
    const publish = (payload: string, fallback = 'x') =>
      stack.sns.send(
        new PublishCommand({
          TargetArn: EndpointArn,
          MessageStructure: 'json',
          Message: JSON.stringify({ default: fallback, APNS: payload }),
        }),
      );
    assert.equal(Buffer.byteLength(apns(4096)), 4096);
    await publish(apns(4096));
    await assert.rejects(publish(apns(4097)), (error: Error) => {
      assert.equal(error.name, 'InvalidParameterException');
      assert.match(error.message, /Message too long/);
      return true;
    });
    // A small platform payload in a Publish over SNS's 256 KB (262,144 bytes) is refused as well.
    await assert.rejects(publish(apns(100), 'x'.repeat(262_144)), { name: 'InvalidParameterException' });
    const attributes = await stack.sns.send(new GetEndpointAttributesCommand({ EndpointArn }));
    assert.equal(attributes.Attributes?.Enabled, 'true', 'not the token’s fault');
  });
});
