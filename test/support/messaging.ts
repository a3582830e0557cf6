import type { GatewayOutcome } from '../../shared/messaging/gateway.js';

/** What the gateway decided, without the record write it leaves for the step (compared on its own). */
export function decision(outcome: GatewayOutcome): Omit<GatewayOutcome, 'record'> {
  if (outcome.outcome === 'sent') return outcome;
  const { record: _record, ...rest } = outcome;
  return rest;
}
