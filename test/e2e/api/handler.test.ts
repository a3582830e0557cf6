import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Context } from 'aws-lambda';
import { handler } from '../../../functions/api/handler.js';
import type { HttpApiEvent, HttpApiResult } from '../../../shared/http/event.js';
import { uniqueId, waitForIdle } from '../../support/local.js';
import { testStack } from '../../support/stack.js';

/** Events exactly as API Gateway (HTTP API, payload 2.0) sends them in the cloud, authorizers included. */
function cloudEvent(
  method: string,
  path: string,
  extra: Partial<HttpApiEvent> & { authorizer?: HttpApiEvent['requestContext']['authorizer'] } = {},
): HttpApiEvent {
  const { authorizer, ...rest } = extra;
  return {
    version: '2.0',
    routeKey: `${method} ${path.replace(/\/[^/]*-[0-9a-z]+$/, '/{id}')}`,
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'abc123.execute-api.eu-west-1.amazonaws.com', 'content-type': 'application/json' },
    requestContext: {
      requestId: uniqueId('req'),
      http: { method, path, sourceIp: '203.0.113.7' },
      ...(authorizer && { authorizer }),
    },
    isBase64Encoded: false,
    ...rest,
  };
}

const context = { awsRequestId: 'test', functionName: 'cairn-api' } as Context;
const call = async (event: HttpApiEvent) => {
  const result = (await handler(event, context)) as HttpApiResult;
  return { status: result.statusCode, body: JSON.parse(result.body) };
};

describe('api handler with API Gateway v2 events', () => {
  let httpUrl: string;
  before(async () => {
    httpUrl = (await testStack()).httpUrl;
  });

  it("trusts API Gateway's JWT authorizer for marketer routes", async () => {
    const res = await call(
      cloudEvent('GET', '/journeys', {
        authorizer: { jwt: { claims: { sub: 'marketer-1' }, scopes: null } },
      }),
    );
    assert.equal(res.status, 200);
    assert.ok(Array.isArray(res.body.journeys));
  });

  it('answers 401 without an authorizer context or credentials', async () => {
    const res = await call(cloudEvent('GET', '/journeys'));
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, 'unauthorized');
  });

  it("ingests a base64 body with the write-key authorizer's source", async () => {
    const userId = uniqueId('gw');
    const body = Buffer.from(JSON.stringify({ userId, event: 'Signed Up' })).toString('base64');
    const res = await call(
      cloudEvent('POST', '/v1/track', {
        body,
        isBase64Encoded: true,
        authorizer: { lambda: { source: 'shop.web' } },
      }),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { success: true });
    await waitForIdle(httpUrl);
    const profile = await call(
      cloudEvent('GET', '/profiles', {
        queryStringParameters: { userId },
        rawQueryString: `userId=${userId}`,
        authorizer: { jwt: { claims: { sub: 'marketer-1' }, scopes: null } },
      }),
    );
    assert.equal(profile.status, 200);
    assert.deepEqual(profile.body.identities.userId, [userId]);
  });
});
