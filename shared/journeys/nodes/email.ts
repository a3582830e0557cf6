/** `email`: a Liquid template rendered for the customer, sent through the gateway to the `email` trait. */
import { messageNodeModule, messageNodeSchema } from './message.js';

export const emailNodeSchema = messageNodeSchema(
  'email',
  'Send an email rendered from a template to the profile’s `email` trait (List-Unsubscribe headers included).',
);
export type EmailNode = import('zod').infer<typeof emailNodeSchema>;

export const emailNode = messageNodeModule<EmailNode>('email', emailNodeSchema);
