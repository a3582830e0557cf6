import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { provisionPlatformApplication } from '../../../shared/channels/push/applications.js';

function fakeSns() {
  const calls: { name: string; input: Record<string, unknown> }[] = [];
  return {
    calls,
    sns: {
      send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        calls.push({ name: command.constructor.name, input: command.input });
        return { PlatformApplicationArn: 'arn:aws:sns:eu-west-1:1:app/GCM/cairn-android' };
      },
    } as never,
  };
}

const spec = {
  Name: 'cairn-android',
  Platform: 'GCM',
  SecretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:fcm',
};
const secret = JSON.stringify({ PlatformCredential: '{"type":"service_account"}' });

describe('SNS platform applications from Secrets Manager (the push custom resource)', () => {
  it('creates the application with the attributes read from the secret', async () => {
    const { sns, calls } = fakeSns();
    const out = await provisionPlatformApplication(
      { RequestType: 'Create', ResourceProperties: spec },
      { sns, readSecret: async () => secret },
    );
    assert.equal(out.physicalResourceId, 'arn:aws:sns:eu-west-1:1:app/GCM/cairn-android');
    assert.deepEqual(calls, [
      {
        name: 'CreatePlatformApplicationCommand',
        input: { Name: 'cairn-android', Platform: 'GCM', Attributes: JSON.parse(secret) },
      },
    ]);
  });

  it('an update with the same name sets the attributes again (a rotated credential); delete tolerates gone', async () => {
    const { sns, calls } = fakeSns();
    const arn = 'arn:aws:sns:eu-west-1:1:app/GCM/cairn-android';
    await provisionPlatformApplication(
      {
        RequestType: 'Update',
        PhysicalResourceId: arn,
        ResourceProperties: spec,
        OldResourceProperties: spec,
      },
      { sns, readSecret: async () => secret },
    );
    assert.equal(calls[0]?.name, 'SetPlatformApplicationAttributesCommand');
    const gone = {
      send: async () => {
        throw Object.assign(new Error('gone'), { name: 'NotFoundException' });
      },
    } as never;
    await provisionPlatformApplication(
      { RequestType: 'Delete', PhysicalResourceId: arn, ResourceProperties: spec },
      { sns: gone, readSecret: async () => secret },
    );
  });

  it('a secret that is not a JSON object of strings fails without showing its value', async () => {
    const { sns } = fakeSns();
    await assert.rejects(
      provisionPlatformApplication(
        { RequestType: 'Create', ResourceProperties: spec },
        { sns, readSecret: async () => 'super-secret-key' },
      ),
      (error: Error) => /JSON object/.test(error.message) && !error.message.includes('super-secret-key'),
    );
  });
});
