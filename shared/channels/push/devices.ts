/**
 * The devices a customer can get push notifications on, learnt from the Segment spec's
 * `context.device` (`token`, `type`: ios | android) on any event, newest first. A profile keeps at
 * most `maxDevices`: a token not seen for long is the one dropped, and a token the platform rejects
 * is suppressed (shared/messaging), not removed here.
 */

export type DevicePlatform = 'ios' | 'android';

export interface DeviceRecord {
  token: string;
  platform: DevicePlatform;
  /** ISO-8601, the latest event that carried the token. */
  lastSeen: string;
}

export const maxDevices = 10;
const maxTokenLength = 4096;

/** `context.device.type` as Segment's SDKs send it (`ios`, `android`; case varies), or undefined. */
function platformOf(type: unknown): DevicePlatform | undefined {
  if (typeof type !== 'string') return undefined;
  const lower = type.toLowerCase();
  if (lower === 'ios' || lower === 'ipados' || lower === 'apple') return 'ios';
  if (lower === 'android') return 'android';
  return undefined;
}

/** The device an event's context names, when it has a push token and a known platform. */
export function deviceFromContext(
  context: Record<string, unknown> | undefined,
  at: string,
): DeviceRecord | undefined {
  const device = context && Object.hasOwn(context, 'device') ? context.device : undefined;
  if (!device || typeof device !== 'object') return undefined;
  const { token, type } = device as { token?: unknown; type?: unknown };
  const platform = platformOf(type);
  if (typeof token !== 'string' || token.length === 0 || token.length > maxTokenLength || !platform)
    return undefined;
  return { token, platform, lastSeen: at };
}

/** The device list with `device` first (seen again, or new), at most `maxDevices`. */
export function rememberDevice(devices: readonly DeviceRecord[], device: DeviceRecord): DeviceRecord[] {
  const existing = devices.find((d) => d.token === device.token);
  const newest = existing && existing.lastSeen > device.lastSeen ? existing : device;
  return [newest, ...devices.filter((d) => d.token !== device.token)]
    .sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : a.lastSeen > b.lastSeen ? -1 : 0))
    .slice(0, maxDevices);
}

/** Both profiles' devices, newest first (a merge). */
export function mergeDevices(a: readonly DeviceRecord[], b: readonly DeviceRecord[]): DeviceRecord[] {
  return b.reduce((list, device) => rememberDevice(list, device), [...a]);
}
