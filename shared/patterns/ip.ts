/**
 * IP address literals and CIDR blocks for the `cidr` operator, parsed the way EventBridge does:
 * IPv4 dotted quads and IPv6 hex-and-colon literals (no zone ids, no embedded IPv4).
 */

const ipv4Shape = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;
const ipv6Shape = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;
const hexGroup = /^[0-9a-fA-F]{1,4}$/;

/** The address bytes (4 or 16), or undefined if `text` is not an IP address literal. */
export function parseIp(text: string): Uint8Array | undefined {
  if (ipv4Shape.test(text)) return parseIpv4(text);
  if (ipv6Shape.test(text)) return parseIpv6(text);
  return undefined;
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i]!;
    if (part.length > 3) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes[i] = value;
  }
  return bytes;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string): string[] | undefined => {
    if (half === '') return [];
    const groups = half.split(':');
    return groups.every((group) => hexGroup.test(group)) ? groups : undefined;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const count = head.length + tail.length;
  if (halves.length === 2 ? count > 7 : count !== 8) return undefined;
  const groups = [...head, ...new Array<string>(8 - count).fill('0'), ...tail];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return bytes;
}

/** An inclusive range of addresses of one family (both bounds have the same length). */
export interface IpRange {
  low: Uint8Array;
  high: Uint8Array;
}

/**
 * Parses `address/bits`. Like EventBridge, the range starts at the address as written (not the
 * masked network address) and the mask must be shorter than the address (< 32 or < 128 bits).
 * Returns an error message for a malformed block.
 */
export function parseCidr(text: string): IpRange | string {
  const parts = text.split('/');
  if (parts.length !== 2) return `"${text}" is not a CIDR block: exactly one "/" is required`;
  const [address, bitsText] = parts as [string, string];
  if (!/^[0-9]{1,3}$/.test(bitsText))
    return `"${text}" is not a CIDR block: the mask bits must be an integer`;
  const low = parseIp(address);
  if (!low) return `"${text}" is not a CIDR block: "${address}" is not an IPv4 or IPv6 address`;
  const bits = Number(bitsText);
  const maxBits = low.length * 8 - 1;
  if (bits > maxBits) {
    return `"${text}" is not a CIDR block: ${low.length === 4 ? 'IPv4' : 'IPv6'} mask bits must be at most ${maxBits}`;
  }
  const high = Uint8Array.from(low);
  for (let bit = bits; bit < low.length * 8; bit++) {
    const index = bit >> 3;
    high[index] = high[index]! | (0x80 >> (bit & 7));
  }
  return { low, high };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const diff = a[i]! - b[i]!;
    if (diff !== 0) return diff;
  }
  return 0;
}

export function ipInRange(address: Uint8Array, range: IpRange): boolean {
  return (
    address.length === range.low.length &&
    compareBytes(address, range.low) >= 0 &&
    compareBytes(address, range.high) <= 0
  );
}
