/** Phone numbers as SMS providers take them: E.164, a `+`, a country code and at most 15 digits. */

const e164 = /^\+[1-9]\d{6,14}$/;

export function isE164(value: unknown): value is string {
  return typeof value === 'string' && e164.test(value);
}

/** Why a value is not a number an SMS can go to, or undefined when it is. */
export function phoneProblem(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return 'no phone number';
  if (typeof value !== 'string') return 'the phone number must be a string';
  if (!value.startsWith('+')) return 'must be E.164: a "+" then the country code, e.g. +33612345678';
  if (!e164.test(value)) return 'must be E.164: "+" and 7 to 15 digits, no spaces or punctuation';
  return undefined;
}
