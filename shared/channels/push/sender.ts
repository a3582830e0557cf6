import { CreatePlatformEndpointCommand, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { type ChannelAdapter, ChannelSendError } from '../../messaging/channel.js';
import type { RenderedPush } from '../../templates/render.js';
import type { DevicePlatform } from './devices.js';

export interface PushSenderOptions {
  /** SNS platform application ARNs by platform (`CAIRN_PUSH_IOS_APP_ARN`, `CAIRN_PUSH_ANDROID_APP_ARN`). */
  applications: Partial<Record<DevicePlatform, string>>;
}

const retryable = new Set([
  'ThrottledException',
  'ThrottlingException',
  'InternalErrorException',
  'KMSThrottlingException',
]);

/** An address is `<platform>:<token>`, so one string carries where and how to send. */
export function pushAddress(platform: DevicePlatform, token: string): string {
  return `${platform}:${token}`;
}

function parseAddress(address: string): { platform: DevicePlatform; token: string } {
  const colon = address.indexOf(':');
  return { platform: address.slice(0, colon) as DevicePlatform, token: address.slice(colon + 1) };
}

/**
 * Push through Amazon SNS mobile push: to every device the customer has on a platform with an
 * application configured. The platform endpoint is created on first send (CreatePlatformEndpoint is
 * idempotent per token) and remembered per container, so a warm sender makes one Publish per device.
 * A disabled endpoint (the platform rejected the token) is reported for suppression.
 */
export function snsMobilePush(client: SNSClient, options: PushSenderOptions): ChannelAdapter<RenderedPush> {
  const endpoints = new Map<string, string>();

  async function endpointFor(platform: DevicePlatform, token: string): Promise<string> {
    const key = `${platform}:${token}`;
    const known = endpoints.get(key);
    if (known) return known;
    const application = options.applications[platform];
    if (!application) throw new ChannelSendError(`no ${platform} push application`, { retryable: false });
    const out = await client.send(
      new CreatePlatformEndpointCommand({ PlatformApplicationArn: application, Token: token }),
    );
    const arn = out.EndpointArn ?? '';
    if (endpoints.size >= 10_000) endpoints.clear();
    endpoints.set(key, arn);
    return arn;
  }

  return {
    channel: 'push',
    addresses(recipient) {
      const devices = (recipient.devices ?? []).filter((device) => options.applications[device.platform]);
      if (devices.length === 0)
        return {
          addresses: [],
          problem: recipient.devices?.length
            ? 'no push application for the customer’s devices'
            : 'no device token',
        };
      return { addresses: devices.map((device) => pushAddress(device.platform, device.token)) };
    },
    async send(message) {
      const { platform, token } = parseAddress(message.to);
      const { title, body, data } = message.content;
      const payload =
        platform === 'ios'
          ? {
              APNS: JSON.stringify({ aps: { alert: { title, body } }, ...data }),
              APNS_SANDBOX: JSON.stringify({ aps: { alert: { title, body } }, ...data }),
            }
          : { GCM: JSON.stringify({ notification: { title, body }, ...(data && { data }) }) };
      try {
        const out = await client.send(
          new PublishCommand({
            TargetArn: await endpointFor(platform, token),
            MessageStructure: 'json',
            Message: JSON.stringify({ default: body, ...payload }),
            MessageAttributes: Object.fromEntries(
              Object.entries(message.tags).map(([name, value]) => [
                name,
                { DataType: 'String', StringValue: value },
              ]),
            ),
          }),
        );
        return { providerMessageId: out.MessageId ?? '' };
      } catch (error) {
        if (error instanceof ChannelSendError) throw error;
        const name = (error as { name?: string }).name ?? 'Error';
        if (name === 'EndpointDisabledException' || name === 'EndpointDisabled') {
          endpoints.delete(`${platform}:${token}`);
          throw new ChannelSendError('EndpointDisabled', { retryable: false, suppress: 'invalid_token' });
        }
        throw new ChannelSendError(name, {
          retryable: retryable.has(name),
          message: (error as Error).message,
        });
      }
    },
  };
}
