import { ownValue, setOwn } from '../dictionary.js';

/**
 * Traits merge last-write-wins per trait, by event time: each trait remembers the timestamp of the
 * event that set it (`traitTimes`, epoch ms), so a late-arriving old identify never overwrites a newer
 * value, and merging two profiles keeps the newest value of every trait. A trait is a top-level key;
 * nested objects (`address`) are replaced whole.
 */
export interface TraitState {
  traits: Record<string, unknown>;
  traitTimes: Record<string, number>;
}

/** Applies the traits of an event that happened at `at` (epoch ms). Ties go to the incoming value. */
export function applyTraits(state: TraitState, incoming: Record<string, unknown>, at: number): TraitState {
  const traits = { ...state.traits };
  const traitTimes = { ...state.traitTimes };
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    const previous = ownValue(traitTimes, name);
    if (previous !== undefined && previous > at) continue;
    setOwn(traits, name, value);
    setOwn(traitTimes, name, at);
  }
  return { traits, traitTimes };
}

/** Combines two profiles' traits: the newer value of each trait wins; ties go to `survivor`. */
export function mergeTraitStates(survivor: TraitState, merged: TraitState): TraitState {
  const traits = { ...survivor.traits };
  const traitTimes = { ...survivor.traitTimes };
  for (const [name, value] of Object.entries(merged.traits)) {
    const theirs = ownValue(merged.traitTimes, name) ?? 0;
    const ours = ownValue(traitTimes, name);
    if (ours !== undefined && ours >= theirs) continue;
    setOwn(traits, name, value);
    setOwn(traitTimes, name, theirs);
  }
  return { traits, traitTimes };
}
