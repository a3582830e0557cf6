import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CreateStateMachineCommand, DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import {
  type CustomResourceEvent,
  DeployedJourneys,
  journeyResource,
} from '../../../shared/catalog/deployed.js';
import { DynamoCatalogStore } from '../../../shared/catalog/dynamodb.js';
import { journeyLanguage } from '../../../shared/catalog/language.js';
import { systemClock } from '../../../shared/clock.js';
import { fillAslPlaceholders } from '../../../shared/journeys/asl.js';
import { createDocumentClient } from '../../../shared/store/dynamodb.js';
import { journeysTable, tableName } from '../../../shared/store/tables.js';
import { journeyId, journeyTestKit } from './support.js';

/**
 * A journey deployed the way `cdk deploy` does it (a state machine + version created outside the API,
 * then the Custom::CairnJourney request) is live: a matching event starts it on that version.
 */

const stepFunctionArn = 'arn:aws:lambda:us-east-1:000000000000:function:cairn-step';

describe('journeys registered by the deploy (Custom::CairnJourney) on the local stack', () => {
  it('a registered journey is triggered by a matching event, on the deployed version; Delete archives it', async () => {
    const kit = await journeyTestKit();
    const id = journeyId('deployed');
    const templateId = `${id}-t`;
    const definition = {
      id,
      name: 'Deployed',
      trigger: { event: `Deployed ${id}` },
      start: 'hello',
      nodes: { hello: { type: 'email', template: templateId, next: 'done' }, done: { type: 'exit' } },
    };
    // What `npm run compile` checks in, and what CloudFormation deploys from it.
    const validated = journeyLanguage.validate(definition, { templateIds: new Set([templateId]) });
    const compiled = journeyLanguage.compile(validated, { version: 1 });
    const asl = typeof compiled === 'string' ? compiled : JSON.stringify(compiled);
    const created = await kit.sfn.send(
      new CreateStateMachineCommand({
        name: `cairn-${id}`,
        definition: fillAslPlaceholders(asl, { StepFunctionArn: stepFunctionArn }),
        roleArn: 'arn:aws:iam::000000000000:role/cairn-state-machine',
        publish: true,
      }),
    );
    const catalog = new DeployedJourneys({
      store: new DynamoCatalogStore(createDocumentClient(), tableName(journeysTable, process.env)),
      language: journeyLanguage,
      clock: systemClock,
    });
    const request = (type: CustomResourceEvent['RequestType']): CustomResourceEvent => ({
      RequestType: type,
      ResponseURL: 'http://unused',
      StackId: 'Cairn',
      RequestId: `${type}-${id}`,
      LogicalResourceId: 'JourneyCatalog',
      ...(type !== 'Create' && { PhysicalResourceId: `cairn-journey:${id}` }),
      ResourceProperties: {
        JourneyId: id,
        Definition: JSON.stringify(definition),
        AslGzip: gzipSync(asl).toString('base64'),
        StepFunctionArn: stepFunctionArn,
        VersionArn: created.stateMachineVersionArn!,
        StateMachineArn: created.stateMachineArn!,
        Templates: JSON.stringify([
          { id: templateId, subject: 'Deployed', text: 'Hi {{ unsubscribe_url }}' },
        ]),
      },
    });
    const first = await journeyResource(request('Create'), catalog);
    assert.equal(first.Status, 'SUCCESS', first.Reason);
    assert.equal(first.Data?.Version, '1');
    const retried = await journeyResource(request('Update'), catalog);
    assert.equal(retried.Data?.Version, '1', 'the same deploy again records nothing new');

    const detail = await kit.api.get(`/journeys/${id}`);
    assert.equal(detail.body.status, 'active');
    assert.equal(detail.body.published.versionArn, created.stateMachineVersionArn);
    // No api call in between: ingest learns of the deploy from the catalog's change stamp, as on AWS.
    const userId = `u-${id}`;
    await kit.identify(userId, { email: 'deployed@example.com' });
    await kit.track(userId, `Deployed ${id}`);
    const outbox = await kit.outbox(id);
    assert.equal(outbox.length, 1);
    assert.equal(outbox[0]!.journeyVersion, 1);
    assert.match(outbox[0]!.text!, /unsubscribe\?p=/);
    const executions = await kit.executions(id);
    assert.equal(executions.length, 1);
    const execution = await kit.sfn.send(
      new DescribeExecutionCommand({ executionArn: executions[0]!.executionArn! }),
    );
    assert.equal(execution.stateMachineVersionArn, created.stateMachineVersionArn);

    const deleted = await journeyResource(request('Delete'), catalog);
    assert.equal(deleted.Status, 'SUCCESS');
    assert.equal((await kit.api.get(`/journeys/${id}`)).body.status, 'archived');
  });
});
