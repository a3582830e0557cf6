import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { InboundSms } from '../../shared/channels/sms/inbound.js';
import { eventBridgePublisher, publishMessages } from '../../shared/http/ingestion.js';
import { DynamoMessagingStore } from '../../shared/messaging/dynamodb.js';
import { messagingService } from '../../shared/messaging/service.js';
import { DynamoProfileStore, findProfile, getProfile } from '../../shared/profiles/index.js';
import { busName } from '../../shared/routing.js';
import type { FeedbackDeps } from '../../shared/runtime/feedback.js';
import { createDocumentClient } from '../../shared/store/dynamodb.js';
import { journeysTable, profilesTable, tableName } from '../../shared/store/tables.js';
import { createRuntime } from '../runtime/runtime.js';

export interface FeedbackHandlerDeps {
  feedback: FeedbackDeps;
  /** A reply to one of Cairn's numbers (the two-way SMS destination): STOP / START / HELP. */
  inboundSms(sms: InboundSms): Promise<unknown>;
}

/**
 * Created once per container. Configuration: the runtime's (functions/runtime/runtime.ts) and
 * CAIRN_BUS_NAME (where inbound SMS events go, default `cairn`).
 */
export function createFeedbackDeps(env: NodeJS.ProcessEnv = process.env): FeedbackHandlerDeps {
  const runtime = createRuntime({ role: 'feedback', env });
  const client = createDocumentClient();
  const clock = runtime.feedback.clock;
  const profiles = new DynamoProfileStore({ client, clock, tableName: tableName(profilesTable, env) });
  const publisher = eventBridgePublisher(
    new EventBridgeClient({ maxAttempts: 5 }),
    env.CAIRN_BUS_NAME || busName,
  );
  const messaging = messagingService({
    store: new DynamoMessagingStore({
      client,
      profilesTable: tableName(profilesTable, env),
      journeysTable: tableName(journeysTable, env),
    }),
    clock,
    getProfile: (profileId) => getProfile(profiles, profileId),
    findByPhone: (phone) => findProfile(profiles, { phone }),
    publish: (message) => publishMessages([message], { publisher, source: 'cairn' }),
    // No `sms`: on AWS the phone number's keyword settings answer STOP / START / HELP themselves.
  });
  return { feedback: runtime.feedback, inboundSms: (sms) => messaging.inboundSms(sms) };
}
