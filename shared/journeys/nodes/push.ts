/** `push`: a Liquid template `{ channel: push, title, body, data? }` sent to every device the customer has. */
import { messageNodeModule, messageNodeSchema } from './message.js';

export const pushNodeSchema = messageNodeSchema(
  'push',
  'Send a push notification rendered from a push template to every device token of the profile ' +
    '(`context.device.token` / `type` of its events).',
);
export type PushNode = import('zod').infer<typeof pushNodeSchema>;

export const pushNode = messageNodeModule<PushNode>('push', pushNodeSchema);
