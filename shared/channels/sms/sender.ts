import { type PinpointSMSVoiceV2Client, SendTextMessageCommand } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { type ChannelAdapter, ChannelSendError } from '../../messaging/channel.js';
import type { RenderedSms } from '../../templates/render.js';
import { phoneProblem } from './address.js';
import { smsParts } from './encoding.js';

export interface SmsSenderOptions {
  /** `CAIRN_SMS_ORIGINATION`: a phone number, sender id or pool (the account default when unset). */
  originationIdentity?: string;
  /** `CAIRN_SMS_CONFIGURATION_SET`: routes delivery receipts to EventBridge. */
  configurationSetName?: string;
}

const retryable = new Set(['ThrottlingException', 'InternalServerException', 'ServiceUnavailableException']);

/**
 * SMS through AWS End User Messaging SMS (`SendTextMessage`): to the `phone` trait (E.164), as
 * PROMOTIONAL or TRANSACTIONAL by the node's category, with the journey ids in `Context` so delivery
 * receipts find the message again. An opted-out number is reported for suppression.
 */
export function endUserMessagingSms(
  client: PinpointSMSVoiceV2Client,
  options: SmsSenderOptions = {},
): ChannelAdapter<RenderedSms> {
  return {
    channel: 'sms',
    addresses(recipient) {
      const problem = phoneProblem(recipient.traits.phone);
      return problem ? { addresses: [], problem } : { addresses: [recipient.traits.phone as string] };
    },
    async send(message) {
      try {
        const out = await client.send(
          new SendTextMessageCommand({
            DestinationPhoneNumber: message.to,
            MessageBody: message.content.text,
            MessageType: message.category === 'transactional' ? 'TRANSACTIONAL' : 'PROMOTIONAL',
            OriginationIdentity: options.originationIdentity || undefined,
            ConfigurationSetName: options.configurationSetName || undefined,
            // At most 5 entries: exactly what feedback needs to find the message record.
            Context: {
              journeyId: message.tags.journeyId ?? '',
              journeyVersion: message.tags.journeyVersion ?? '',
              nodeId: message.tags.nodeId ?? '',
              profileId: message.tags.profileId ?? '',
              execution: message.tags.execution ?? '',
            },
          }),
        );
        return { providerMessageId: out.MessageId ?? '', parts: smsParts(message.content.text).parts };
      } catch (error) {
        const name = (error as { name?: string }).name ?? 'Error';
        const text = (error as Error).message ?? name;
        if (name === 'ConflictException' && /OPTED_OUT/i.test(text))
          throw new ChannelSendError('DESTINATION_PHONE_NUMBER_OPTED_OUT', {
            retryable: false,
            suppress: 'opted_out',
          });
        throw new ChannelSendError(name, { retryable: retryable.has(name), message: text });
      }
    },
  };
}
