import {
  answerCustomResource,
  type CustomResourceEvent,
  type CustomResourceResponse,
} from '../catalog/deployed.js';
import { parseDefinition } from '../derived/catalog.js';
import type { Logger } from '../log.js';
import { type MessagingPolicy, messagingPolicySchema } from './policy.js';

/**
 * `Custom::CairnMessagingPolicy`: the messaging policy as code (the `messagingPolicy` prop of the
 * CairnJourneys construct, validated again at synth). Create and Update store it as
 * `PUT /messaging/policy` does; Delete leaves the stored policy alone (no longer managed by code, the
 * API's is what applies: removing a cap should be a change someone makes, not a side effect).
 */
export const messagingPolicyResourceType = 'Custom::CairnMessagingPolicy';

export interface MessagingPolicyResourceProperties {
  /** The policy as JSON text. */
  Policy: string;
}

export type MessagingPolicyResourceEvent = Omit<CustomResourceEvent, 'ResourceProperties'> & {
  ResourceProperties: MessagingPolicyResourceProperties & { ServiceToken?: string };
};

/** The policy with its defaults, or a ValidationError naming every problem with its path. */
export function parseMessagingPolicy(input: unknown): MessagingPolicy {
  return parseDefinition(messagingPolicySchema, input);
}

/** Runs one policy resource request; never throws (failures become FAILED with the reason). */
export async function messagingPolicyResource(
  event: MessagingPolicyResourceEvent,
  store: { putPolicy(policy: MessagingPolicy, at: string): Promise<void> },
  now: () => number,
  log?: Logger,
): Promise<CustomResourceResponse> {
  return answerCustomResource(
    event,
    {
      label: 'messaging policy',
      physicalId: 'cairn-messaging-policy',
      async apply() {
        const policy = parseMessagingPolicy(JSON.parse(event.ResourceProperties.Policy));
        await store.putPolicy(policy, new Date(now()).toISOString());
        return {
          FrequencyCaps: String(policy.frequencyCaps.length),
          QuietHours: policy.quietHours ? `${policy.quietHours.start}-${policy.quietHours.end}` : 'none',
          Topics: String(policy.topics.length),
        };
      },
      async remove() {},
    },
    log,
  );
}
