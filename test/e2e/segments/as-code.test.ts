import assert from 'node:assert/strict';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createSegments } from '../../../functions/segments/deps.js';
import { publishExampleJourneys } from '../../../infra/local/examples.js';
import { systemClock } from '../../../shared/clock.js';
import { type SegmentResourceEvent, segmentResource } from '../../../shared/segments/deployed.js';
import { waitForIdle } from '../../support/local.js';
import { testStack } from '../../support/stack.js';
import { apiClient } from '../api/client.js';

describe('segments as code on the local stack', () => {
  it('npm start defines statemachines/segments/ through the API, a segment before the segments reading it', async () => {
    const { httpUrl } = await testStack();
    const folder = mkdtempSync(join(tmpdir(), 'cairn-segments-code-'));
    cpSync(join('statemachines', 'segments'), join(folder, 'segments'), { recursive: true });
    const outcome = await publishExampleJourneys({ httpUrl, apiToken: 'dev-token', folder });
    assert.deepEqual(outcome.failed, []);
    await waitForIdle(httpUrl);
    const api = apiClient(httpUrl);
    for (const id of ['repeat-buyers', 'vip-repeat-buyers']) {
      const out = await api.get(`/segments/${id}`);
      assert.equal(out.status, 200, JSON.stringify(out.body));
      assert.equal(out.body.status, 'ready');
    }
    assert.deepEqual((await api.get('/segments/vip-repeat-buyers')).body.definition.where.all[0], {
      segment: 'repeat-buyers',
    });
  });

  it('cdk deploy defines a checked-in segment (Custom::CairnSegment): Create builds it, the same Update changes nothing, Delete deletes it', async () => {
    const { httpUrl } = await testStack();
    const api = apiClient(httpUrl);
    const id = `deployed-${Date.now().toString(36)}`;
    const service = createSegments({ clock: systemClock }).service;
    const request = (type: SegmentResourceEvent['RequestType'], where: unknown): SegmentResourceEvent => ({
      RequestType: type,
      ResourceType: 'Custom::CairnSegment',
      ResponseURL: 'http://unused',
      StackId: 'Cairn',
      RequestId: `${type}-${id}`,
      LogicalResourceId: 'SegmentDeployed',
      ...(type !== 'Create' && { PhysicalResourceId: `cairn-segment:${id}` }),
      ResourceProperties: { SegmentId: id, Definition: JSON.stringify({ id, name: 'Deployed', where }) },
    });
    const where = { traits: { plan: ['deployed'] } };
    const created = await segmentResource(request('Create', where), service);
    assert.equal(created.Status, 'SUCCESS', created.Reason);
    await waitForIdle(httpUrl);
    assert.equal((await api.get(`/segments/${id}`)).body.status, 'ready');
    const same = await segmentResource(request('Update', where), service);
    assert.deepEqual(same.Data, { Status: 'ready', Revision: '1' });
    const bad = await segmentResource(request('Update', { segment: 'no-such-segment' }), service);
    assert.equal(bad.Status, 'FAILED');
    assert.match(String(bad.Reason), /unknown segment 'no-such-segment'/);
    const deleted = await segmentResource(request('Delete', where), service);
    assert.equal(deleted.Status, 'SUCCESS');
    assert.equal((await api.get(`/segments/${id}`)).status, 404);
  });
});
