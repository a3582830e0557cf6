/**
 * The local Amazon SNS, the mobile-push part Cairn uses (Query protocol, XML answers):
 * `CreatePlatformEndpoint`, `Publish` to an endpoint, `GetEndpointAttributes`,
 * `SetEndpointAttributes`, `DeleteEndpoint`. A publish is captured into the outbox with the title,
 * body and data read from the platform's payload (APNs `aps.alert`, FCM `notification`/`data`).
 *
 * As on AWS: creating an endpoint for a token that already has one returns the same ARN; publishing
 * to a disabled endpoint fails with `EndpointDisabled`. Simulated outcome, like SES's mailbox
 * simulator: a token starting with `invalid-` is one the platform rejects, so its endpoint is
 * disabled on the first publish (which fails), as APNs/FCM feedback disables it on AWS. A platform
 * payload over 4096 bytes (APNs, FCM) or a message over SNS's 256 KB is refused (`InvalidParameter`),
 * a failure that is not the token's.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import { AwsServiceError, type EdgeQueryService } from './edge.js';
import { jsonFile } from './json-file.js';
import { type OutboxOrigin, outboxOrigin } from './ses.js';

export interface PushOutboxMessage extends OutboxOrigin {
  channel: 'push';
  messageId: string;
  /** The device token. */
  to: string;
  platform: string;
  endpointArn: string;
  title: string | null;
  body: string | null;
  data: Record<string, unknown> | null;
}

interface Endpoint {
  arn: string;
  application: string;
  token: string;
  enabled: boolean;
  customUserData: string;
}

export interface LocalSnsOptions {
  stateFile?: string;
  clock?: Clock;
  capacity?: number;
}

export interface LocalSns {
  service: EdgeQueryService;
  /** Newest first. */
  outbox(): PushOutboxMessage[];
  clear(): void;
  stop(): void;
}

const applicationArn =
  /^arn:aws:sns:[a-z0-9-]+:\d{12}:app\/(APNS|APNS_SANDBOX|GCM|ADM|BAIDU|MPNS|WNS)\/[\w.-]{1,256}$/;

export function createLocalSns(options: LocalSnsOptions = {}): LocalSns {
  const store = jsonFile<{ messages: PushOutboxMessage[]; endpoints: Endpoint[] }>(options.stateFile);
  const state = store.load({ messages: [], endpoints: [] });
  const endpoints = new Map(state.endpoints.map((endpoint) => [endpoint.arn, endpoint]));
  const capacity = options.capacity ?? 10_000;
  const clock = options.clock ?? { now: () => Date.now() };
  const save = () => store.save(() => ({ messages: state.messages, endpoints: [...endpoints.values()] }));

  function endpoint(params: URLSearchParams): Endpoint {
    const arn = required(params, 'EndpointArn');
    const found = endpoints.get(arn);
    if (!found) throw new AwsServiceError('NotFound', 'Endpoint does not exist', 404);
    return found;
  }

  const actions: Record<string, (params: URLSearchParams) => Record<string, unknown>> = {
    CreatePlatformEndpoint(params) {
      const application = required(params, 'PlatformApplicationArn');
      const match = applicationArn.exec(application);
      if (!match) invalid('PlatformApplicationArn', 'is not a platform application ARN');
      const token = required(params, 'Token');
      const customUserData = params.get('CustomUserData') ?? '';
      const existing = [...endpoints.values()].find(
        (e) => e.application === application && e.token === token,
      );
      if (existing) {
        // AWS answers with the same ARN when the attributes are the same, and refuses otherwise.
        if (existing.customUserData !== customUserData)
          invalid(
            'Token',
            `endpoint ${existing.arn} already exists with the same Token, but different attributes`,
          );
        return { EndpointArn: existing.arn };
      }
      const arn = `${application.replace(':app/', ':endpoint/')}/${randomUUID()}`;
      endpoints.set(arn, { arn, application, token, enabled: true, customUserData });
      save();
      return { EndpointArn: arn };
    },
    Publish(params) {
      const target = params.get('TargetArn') ?? params.get('TopicArn');
      if (!target) invalid('TargetArn', 'is required');
      const found = endpoints.get(target);
      if (!found) throw new AwsServiceError('NotFound', 'Endpoint does not exist', 404);
      if (!found.enabled) throw new AwsServiceError('EndpointDisabled', 'Endpoint is disabled', 400);
      if (found.token.startsWith('invalid-')) {
        found.enabled = false;
        save();
        throw new AwsServiceError('EndpointDisabled', 'Endpoint is disabled', 400);
      }
      const platform = /:endpoint\/([A-Z_]+)\//.exec(found.arn)?.[1] ?? 'GCM';
      const text = required(params, 'Message');
      // SNS takes at most 256 KB per Publish; to a platform endpoint, at most what the platform takes:
      // 4096 bytes of payload for APNs (Apple: "For all other remote notifications [than VoIP], the
      // maximum payload size is 4 KB (4096 bytes)") and for FCM ("Maximum payload for both message
      // types is 4096 bytes"). SNS answers 400 at Publish ("Message size is larger than supported by
      // protocol/end-service", SNS mobile push API errors), and the endpoint stays enabled.
      if (
        Buffer.byteLength(text) > publishMaxBytes ||
        platformPayloadBytes(text, params.get('MessageStructure'), platform) > platformMaxBytes
      )
        throw new AwsServiceError('InvalidParameter', 'Invalid parameter: Message too long', 400);
      const content = readPayload(text, params.get('MessageStructure'), platform);
      const attributes = messageAttributes(params);
      const message: PushOutboxMessage = {
        channel: 'push',
        messageId: randomUUID(),
        to: found.token,
        platform,
        endpointArn: found.arn,
        ...content,
        ...outboxOrigin(attributes, clock.now()),
      };
      state.messages.unshift(message);
      if (state.messages.length > capacity) state.messages.length = capacity;
      save();
      return { MessageId: message.messageId };
    },
    GetEndpointAttributes(params) {
      const found = endpoint(params);
      return {
        Attributes: new Map([
          ['Enabled', String(found.enabled)],
          ['Token', found.token],
          ['CustomUserData', found.customUserData],
        ]),
      };
    },
    SetEndpointAttributes(params) {
      const found = endpoint(params);
      const attributes = mapEntries(params, 'Attributes');
      if (attributes.Enabled !== undefined) found.enabled = attributes.Enabled === 'true';
      if (attributes.Token !== undefined) found.token = attributes.Token;
      if (attributes.CustomUserData !== undefined) found.customUserData = attributes.CustomUserData;
      save();
      return {};
    },
    DeleteEndpoint(params) {
      endpoints.delete(required(params, 'EndpointArn'));
      save();
      return {};
    },
  };

  return {
    service: {
      signingName: 'sns',
      xmlNamespace: 'http://sns.amazonaws.com/doc/2010-03-31/',
      async handle(action, params) {
        const run = Object.hasOwn(actions, action) ? actions[action] : undefined;
        if (!run)
          throw new AwsServiceError(
            'InvalidAction',
            `The local SNS supports ${Object.keys(actions).join(', ')}, not ${action}`,
            400,
          );
        return run(params);
      },
    },
    outbox: () => state.messages.map((m) => ({ ...m })),
    clear() {
      state.messages.length = 0;
      save();
    },
    stop: () => store.flush(),
  };
}

function required(params: URLSearchParams, name: string): string {
  const value = params.get(name);
  if (value === null || value === '') invalid(name, 'is required');
  return value;
}

function invalid(name: string, reason: string): never {
  throw new AwsServiceError('InvalidParameter', `Invalid parameter: ${name} ${reason}`, 400);
}

/** `Attributes.entry.N.key` / `.value` (Query protocol maps). */
function mapEntries(params: URLSearchParams, prefix: string): Record<string, string> {
  const map: Record<string, string> = Object.create(null);
  for (let n = 1; params.has(`${prefix}.entry.${n}.key`); n++) {
    map[params.get(`${prefix}.entry.${n}.key`) ?? ''] = params.get(`${prefix}.entry.${n}.value`) ?? '';
  }
  return map;
}

/** `MessageAttributes.entry.N.Name` / `.Value.StringValue`. */
function messageAttributes(params: URLSearchParams): Record<string, string> {
  const map: Record<string, string> = Object.create(null);
  for (let n = 1; params.has(`MessageAttributes.entry.${n}.Name`); n++) {
    map[params.get(`MessageAttributes.entry.${n}.Name`) ?? ''] =
      params.get(`MessageAttributes.entry.${n}.Value.StringValue`) ?? '';
  }
  return map;
}

/** Title, body and data from the platform's payload (MessageStructure json), or the plain message. */
function readPayload(
  message: string,
  structure: string | null,
  platform: string,
): Pick<PushOutboxMessage, 'title' | 'body' | 'data'> {
  if (structure !== 'json') return { title: null, body: message, data: null };
  const outer = parseJson(message, 'Message');
  if (typeof outer.default !== 'string')
    invalid('Message', 'must have a "default" entry when MessageStructure is json');
  const own = outer[platform];
  if (typeof own !== 'string') return { title: null, body: outer.default, data: null };
  const payload = parseJson(own, `Message.${platform}`);
  if (platform.startsWith('APNS')) {
    const aps = (payload.aps ?? {}) as { alert?: { title?: unknown; body?: unknown } | string };
    const alert = typeof aps.alert === 'string' ? { body: aps.alert } : (aps.alert ?? {});
    const { aps: _aps, ...data } = payload;
    return {
      title: typeof alert.title === 'string' ? alert.title : null,
      body: typeof alert.body === 'string' ? alert.body : null,
      data: Object.keys(data).length ? data : null,
    };
  }
  const notification = (payload.notification ?? {}) as { title?: unknown; body?: unknown };
  const data =
    payload.data && typeof payload.data === 'object' ? (payload.data as Record<string, unknown>) : null;
  return {
    title: typeof notification.title === 'string' ? notification.title : null,
    body: typeof notification.body === 'string' ? notification.body : null,
    data,
  };
}

/** SNS Publish: 256 KB (262,144 bytes) of message. */
const publishMaxBytes = 262_144;
/** APNs (non-VoIP) and FCM: 4096 bytes of payload. */
const platformMaxBytes = 4096;

/** The bytes of the payload that goes to the platform (its own entry, else `default`). */
function platformPayloadBytes(message: string, structure: string | null, platform: string): number {
  if (structure !== 'json') return Buffer.byteLength(message);
  const outer = parseJson(message, 'Message');
  const own = typeof outer[platform] === 'string' ? outer[platform] : outer.default;
  return Buffer.byteLength(String(own));
}

function parseJson(text: string, name: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  return invalid(name, 'must be a JSON object');
}
