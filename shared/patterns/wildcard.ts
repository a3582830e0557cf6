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
