/**
 * The `wildcard` operator: `*` matches any run of characters (including none); `\*` is a literal
 * star and `\\` a literal backslash. Matching is linear-time per literal piece (no regular
 * expressions, so no catastrophic backtracking on hostile input).
 */

/** The literal pieces between stars, or an error message for an invalid wildcard. */
export function parseWildcard(text: string): string[] | string {
  const pieces: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === '*') {
      if (text[i + 1] === '*') return `consecutive wildcard characters at position ${i}`;
      pieces.push(current);
      current = '';
    } else if (char === '\\') {
      const next = text[i + 1];
      if (next !== '*' && next !== '\\')
        return `invalid escape at position ${i} (only \\* and \\\\ are allowed)`;
      current += next;
      i++;
    } else {
      current += char;
    }
  }
  pieces.push(current);
  return pieces;
}

/** Compiles parsed pieces into a test; pieces.length - 1 is the number of stars. */
export function wildcardTest(pieces: readonly string[]): (value: string) => boolean {
  if (pieces.length === 1) {
    const exact = pieces[0]!;
    return (value) => value === exact;
  }
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  const middle = pieces.slice(1, -1).filter((piece) => piece !== '');
  const minLength = pieces.reduce((sum, piece) => sum + piece.length, 0);
  return (value) => {
    if (value.length < minLength || !value.startsWith(first) || !value.endsWith(last)) return false;
    // Greedy leftmost placement of each middle piece is optimal for star-only globs.
    let from = first.length;
    const end = value.length - last.length;
    for (const piece of middle) {
      const at = value.indexOf(piece, from);
      if (at < 0 || at + piece.length > end) return false;
      from = at + piece.length;
    }
    return true;
  };
}

/**
 * AWS rejects a rule whose wildcards are too complex ("Rule is too complex - try using fewer
 * wildcard characters or fewer repeating character sequences after a wildcard character"): the
 * EventBridge user guide, "Wildcards and event pattern complexity". The measure is event-ruler's
 * (the engine EventBridge runs): the most wildcard rule prefixes one worst-case value keeps alive
 * at once. AWS does not publish its threshold; 10 is the least that accepts AWS's own accepted
 * cases (a literal repeated five times after a wildcard) and rejects `*:*:*:*:*:event-bus/*`.
 */
export const MAX_WILDCARD_COMPLEXITY = 10;

/** Caps the search on hostile input: beyond this many distinct sets of live prefixes, it is too complex. */
const maxExploredSets = 5000;

/**
 * The complexity of one field's wildcard patterns, as event-ruler builds them: each pattern (with
 * the value's enclosing quotes, as the engine reads it) is a chain of states, one after each
 * character, and a star is a state that loops on any character and may be skipped. All patterns
 * are run together over every character they name (plus one standing for all others); the answer
 * is the largest number of live states at or after a pattern's first star, over every input.
 */
export function wildcardComplexity(patterns: readonly (readonly string[])[]): number {
  const chains = patterns.map((pieces) => {
    const chain: (string | null)[] = ['"'];
    pieces.forEach((piece, index) => {
      if (index > 0) chain.push(null);
      chain.push(...piece);
    });
    chain.push('"');
    return chain;
  });
  const firstStar = chains.map((chain) => chain.indexOf(null));
  if (firstStar.every((at) => at < 0)) return 0;
  const alphabet = new Set<string>(['\u0000']);
  for (const chain of chains) for (const token of chain) if (token !== null) alphabet.add(token);
  // A state is (pattern, index of the last token read); -1 = nothing read yet.
  const width = 1 + Math.max(...chains.map((chain) => chain.length));
  const id = (pattern: number, at: number) => pattern * width + at + 1;
  const pattern = (state: number) => Math.floor(state / width);
  const at = (state: number) => (state % width) - 1;
  /** A star may match nothing: the state before it is also the star's. */
  const close = (live: Set<number>): Set<number> => {
    for (const state of live) {
      const chain = chains[pattern(state)]!;
      if (chain[at(state) + 1] === null) live.add(id(pattern(state), at(state) + 1));
    }
    return live;
  };
  const weigh = (live: Set<number>) => {
    let count = 0;
    for (const state of live) {
      const star = firstStar[pattern(state)]!;
      if (star >= 0 && at(state) >= star) count++;
    }
    return count;
  };
  const start = close(new Set(chains.map((_, index) => id(index, -1))));
  let worst = weigh(start);
  const seen = new Set<string>([[...start].sort().join(',')]);
  const pending = [start];
  while (pending.length > 0) {
    const live = pending.pop()!;
    for (const char of alphabet) {
      const next = new Set<number>();
      for (const state of live) {
        const chain = chains[pattern(state)]!;
        if (chain[at(state)] === null) next.add(state);
        if (chain[at(state) + 1] === char) next.add(id(pattern(state), at(state) + 1));
      }
      if (next.size === 0) continue;
      close(next);
      worst = Math.max(worst, weigh(next));
      if (worst > MAX_WILDCARD_COMPLEXITY) return worst;
      const key = [...next].sort().join(',');
      if (seen.has(key)) continue;
      if (seen.size >= maxExploredSets) return Number.POSITIVE_INFINITY;
      seen.add(key);
      pending.push(next);
    }
  }
  return worst;
}
