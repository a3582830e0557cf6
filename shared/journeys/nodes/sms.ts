/** `sms`: a Liquid template `{ channel: sms, text }` sent through the gateway to the `phone` trait (E.164). */
import { messageNodeModule, messageNodeSchema } from './message.js';

export const smsNodeSchema = messageNodeSchema(
  'sms',
  'Send an SMS rendered from an sms template to the profile’s `phone` trait (E.164); the message parts ' +
    '(GSM-7 or UCS-2) are counted in `parts`.',
);
export type SmsNode = import('zod').infer<typeof smsNodeSchema>;

export const smsNode = messageNodeModule<SmsNode>('sms', smsNodeSchema, ['parts']);
