/**
 * How many SMS parts a text costs. Carriers bill per part, so marketers see this before sending.
 *
 * GSM 03.38 (GSM-7) packs 160 septets into one SMS, 153 per part once the message is split (the
 * concatenation header takes 7). Characters of the extension table (`{ } [ ] ~ \ ^ | €` and form
 * feed) take two septets, an escape and the character, and a pair is never split across parts. Any
 * character outside both tables makes the whole message UCS-2: 70 UTF-16 code units in one SMS,
 * 67 per part, and a surrogate pair (an emoji) is never split either.
 */

const gsm7Basic =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const gsm7Extension = '\f^{}\\[~]|€';

const basic = new Set(gsm7Basic);
const extension = new Set(gsm7Extension);

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsParts {
  encoding: SmsEncoding;
  /** Billed parts (0 for an empty text). */
  parts: number;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2) the text takes. */
  units: number;
  /** Characters that forced UCS-2, at most 10, so a marketer can replace them. */
  nonGsmCharacters: string[];
}

const limits: Record<SmsEncoding, { single: number; part: number }> = {
  'GSM-7': { single: 160, part: 153 },
  'UCS-2': { single: 70, part: 67 },
};

/** The encoding a text needs and how many parts it is billed as. */
export function smsParts(text: string): SmsParts {
  const nonGsm = new Set<string>();
  for (const char of text) if (!basic.has(char) && !extension.has(char)) nonGsm.add(char);
  const encoding: SmsEncoding = nonGsm.size === 0 ? 'GSM-7' : 'UCS-2';
  // Each character's cost in units; pairs (escape + char, surrogates) stay in one part.
  const costs: number[] = [];
  for (const char of text) {
    if (encoding === 'GSM-7') costs.push(extension.has(char) ? 2 : 1);
    else costs.push(char.length);
  }
  const units = costs.reduce((sum, cost) => sum + cost, 0);
  const { single, part } = limits[encoding];
  return {
    encoding,
    parts: units === 0 ? 0 : units <= single ? 1 : countParts(costs, part),
    units,
    nonGsmCharacters: [...nonGsm].slice(0, 10),
  };
}

function countParts(costs: number[], capacity: number): number {
  let parts = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > capacity) {
      parts += 1;
      used = 0;
    }
    used += cost;
  }
  return parts;
}
