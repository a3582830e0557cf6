/**
 * Execution history, kept compact (virtual-ms timestamp, AWS event type, the details object) and
 * shaped for `GetExecutionHistory` only when asked.
 */
export interface HistoryEntry {
  type: string;
  ts: number;
  details?: Record<string, unknown>;
}

/** The `HistoryEvent` members of `@aws-sdk/client-sfn`, as JSON on the wire (dates in epoch seconds). */
export function toAwsEvent(
  entry: HistoryEntry,
  index: number,
  includeData: boolean,
): Record<string, unknown> {
  const event: Record<string, unknown> = {
    timestamp: entry.ts / 1000,
    type: entry.type,
    id: index + 1,
    previousEventId: index,
  };
  if (entry.details) {
    const details = includeData ? entry.details : withoutData(entry.details);
    event[detailsKey(entry.type)] = details;
  }
  return event;
}

function detailsKey(type: string): string {
  if (type.endsWith('StateEntered')) return 'stateEnteredEventDetails';
  if (type.endsWith('StateExited')) return 'stateExitedEventDetails';
  return `${type[0]!.toLowerCase()}${type.slice(1)}EventDetails`;
}

const dataKeys = new Set(['input', 'output', 'parameters']);

function withoutData(details: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) if (!dataKeys.has(key)) out[key] = value;
  return out;
}

/** AWS names state events after the state type: `TaskStateEntered`, `WaitStateExited`, … */
export function stateEventType(stateType: string, phase: 'Entered' | 'Exited'): string {
  const key = `${stateType}State${phase}`;
  let type = eventTypes.get(key);
  if (!type) {
    type = key.split('').join('');
    eventTypes.set(key, type);
  }
  return type;
}

/** One flat string per event type, shared by all events (a template literal makes a new one each time). */
const eventTypes = new Map<string, string>();
