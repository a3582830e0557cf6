/**
 * Replies that carriers and regulators (CTIA in the US, the "STOP" convention elsewhere) require a
 * sender to honour. The first word of the reply decides, case and surrounding spaces ignored, as
 * AWS End User Messaging SMS matches its keywords.
 */

export type SmsKeyword = 'opt-out' | 'opt-in' | 'help';

const keywords: Record<string, SmsKeyword> = {
  STOP: 'opt-out',
  STOPALL: 'opt-out',
  UNSUBSCRIBE: 'opt-out',
  CANCEL: 'opt-out',
  END: 'opt-out',
  QUIT: 'opt-out',
  OPTOUT: 'opt-out',
  'OPT-OUT': 'opt-out',
  ARRET: 'opt-out',
  START: 'opt-in',
  UNSTOP: 'opt-in',
  YES: 'opt-in',
  HELP: 'help',
  INFO: 'help',
};

/** The keyword an inbound SMS carries, or undefined for an ordinary reply. */
export function smsKeyword(body: string): SmsKeyword | undefined {
  const first = body.trim().split(/\s+/, 1)[0]?.toUpperCase() ?? '';
  return Object.hasOwn(keywords, first) ? keywords[first] : undefined;
}

/** What Cairn answers to HELP, and after an opt-out or opt-in (carriers expect a confirmation). */
export const smsKeywordReplies: Record<SmsKeyword, string> = {
  help: 'Reply STOP to unsubscribe from these messages, START to subscribe again. Msg&data rates may apply.',
  'opt-out': 'You are unsubscribed and will receive no more messages. Reply START to subscribe again.',
  'opt-in': 'You are subscribed again. Reply STOP to unsubscribe, HELP for help.',
};
