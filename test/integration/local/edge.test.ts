import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { SESv2Client, SendEmailCommand, type SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import { readOutbox, uniqueId, useStackClients } from '../../support/local.js';
import { testStack } from '../../support/stack.js';

describe('the edge of the started stack, with real AWS SDK clients', () => {
  const stack = useStackClients((config) => ({
    ddb: new DynamoDBClient(config),
    ses: new SESv2Client(config),
  }));

  describe('DynamoDB (proxied to DynamoDB Local)', () => {
    it('lists the tables created from shared/store/tables.ts', async () => {
      const { TableNames } = await stack.ddb.send(new ListTablesCommand({}));
      assert.ok(TableNames?.includes('cairn-profiles'));
      assert.ok(TableNames?.includes('cairn-journeys'));
    });

    it('writes and reads an item back', async () => {
      const pk = uniqueId('edge');
      await stack.ddb.send(
        new PutItemCommand({
          TableName: 'cairn-profiles',
          Item: { pk: { S: pk }, sk: { S: 'X' }, n: { N: '42' } },
        }),
      );
      const { Item } = await stack.ddb.send(
        new GetItemCommand({
          TableName: 'cairn-profiles',
          Key: { pk: { S: pk }, sk: { S: 'X' } },
          ConsistentRead: true,
        }),
      );
      assert.deepEqual(Item, { pk: { S: pk }, sk: { S: 'X' }, n: { N: '42' } });
    });

    it('passes DynamoDB errors through with their type and cancellation reasons', async () => {
      const pk = uniqueId('edge');
      await stack.ddb.send(
        new PutItemCommand({ TableName: 'cairn-profiles', Item: { pk: { S: pk }, sk: { S: 'X' } } }),
      );
      const error = await stack.ddb
        .send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Put: {
                  TableName: 'cairn-profiles',
                  Item: { pk: { S: pk }, sk: { S: 'X' } },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              { Put: { TableName: 'cairn-profiles', Item: { pk: { S: `${pk}-2` }, sk: { S: 'X' } } } },
            ],
          }),
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(error instanceof TransactionCanceledException, `got ${String(error)}`);
      assert.deepEqual(
        error.CancellationReasons?.map((r) => r.Code),
        ['ConditionalCheckFailed', 'None'],
      );
    });
  });

  describe('SES v2 SendEmail (captured in the outbox)', () => {
    const email = (journeyId: string, patch: Partial<SendEmailCommandInput> = {}): SendEmailCommandInput => ({
      FromEmailAddress: 'Cairn <no-reply@example.com>',
      Destination: { ToAddresses: ['ada@example.com'] },
      Content: {
        Simple: {
          Subject: { Data: 'Your cart' },
          Body: { Html: { Data: '<p>Hi</p>' }, Text: { Data: 'Hi' } },
        },
      },
      EmailTags: [
        { Name: 'profileId', Value: 'p-1' },
        { Name: 'journeyId', Value: journeyId },
        { Name: 'journeyVersion', Value: '3' },
        { Name: 'nodeId', Value: 'reminder' },
      ],
      ...patch,
    });

    it('captures the message with the journey ids from its EmailTags, newest first', async () => {
      const journeyId = uniqueId('j');
      const first = await stack.ses.send(new SendEmailCommand(email(journeyId)));
      const second = await stack.ses.send(
        new SendEmailCommand(email(journeyId, { Destination: { ToAddresses: ['bob@example.com'] } })),
      );
      const messages = await readOutbox(stack.httpUrl, { journeyId });
      assert.deepEqual(
        messages.map((m) => m.messageId),
        [second.MessageId, first.MessageId],
      );
      const message = messages[1]!;
      assert.equal(message.to, 'ada@example.com');
      assert.equal(message.from, 'Cairn <no-reply@example.com>');
      assert.equal(message.subject, 'Your cart');
      assert.equal(message.html, '<p>Hi</p>');
      assert.equal(message.text, 'Hi');
      assert.equal(message.profileId, 'p-1');
      assert.equal(message.journeyVersion, 3);
      assert.equal(message.nodeId, 'reminder');
      assert.ok(!Number.isNaN(Date.parse(message.sentAt)));
    });

    it('refuses what SES refuses, with AWS error types', async () => {
      const journeyId = uniqueId('j');
      await assert.rejects(
        stack.ses.send(new SendEmailCommand(email(journeyId, { FromEmailAddress: undefined }))),
        {
          name: 'BadRequestException',
        },
      );
      await assert.rejects(
        stack.ses.send(new SendEmailCommand(email(journeyId, { Destination: { ToAddresses: [] } }))),
        {
          name: 'BadRequestException',
        },
      );
      await assert.rejects(
        stack.ses.send(
          new SendEmailCommand(email(journeyId, { Destination: { ToAddresses: ['not-an-address'] } })),
        ),
        {
          name: 'BadRequestException',
        },
      );
      await assert.rejects(
        stack.ses.send(
          new SendEmailCommand(
            email(journeyId, { EmailTags: [{ Name: 'journeyId', Value: 'has spaces and é' }] }),
          ),
        ),
        { name: 'BadRequestException', message: /EmailTags/ },
      );
      const many = Array.from({ length: 51 }, (_, i) => `r${i}@example.com`);
      await assert.rejects(
        stack.ses.send(new SendEmailCommand(email(journeyId, { Destination: { ToAddresses: many } }))),
        {
          name: 'MessageRejected',
        },
      );
      assert.deepEqual(await readOutbox(stack.httpUrl, { journeyId }), []);
    });
  });

  it('answers an unknown service with an AWS-shaped error, not a crash', async () => {
    const { edgeUrl } = await testStack();
    const response = await fetch(edgeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'Kinesis_20131202.PutRecord' },
      body: '{}',
    });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { __type: string }).__type, 'UnknownOperationException');
  });
});
