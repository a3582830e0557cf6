/** The journey documents tests write: the head built once, the graph written as the test reads it. */

/** `start` and `nodes`, and any other field of the journey format (`goal`, `reentry`, `name`, …). */
export type JourneyBody = { start: string; nodes: Record<string, unknown> } & Record<string, unknown>;

/** A journey document entered by the `trigger` event; named after its id unless `body` names it. */
export function journeyDocument(id: string, trigger: string, body: JourneyBody) {
  return { id, name: id, trigger: { event: trigger }, ...body };
}

/** An A/B split node: half of the customers go to each arm, `{ [next node]: branch name }` in order. */
export function evenSplit(arms: { readonly [next: string]: string }) {
  const branches = Object.entries(arms);
  if (branches.length !== 2) throw new Error('evenSplit takes two arms');
  return { type: 'split', branches: branches.map(([next, name]) => ({ weight: 50, next, name })) };
}
