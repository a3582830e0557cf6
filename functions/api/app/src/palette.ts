/**
 * The dashboard's colours, defined once. build.ts writes them into app.css as custom properties
 * (`--<name>`), which the stylesheet uses (it holds no colour of its own). The named colours are
 * Okabe–Ito's where they draw data. test/unit/dashboard/palette.test.ts checks them under simulated
 * protanopia, deuteranopia and tritanopia: the colours of one chart must stay apart (CIEDE2000
 * ≥ 10), labels must keep 4.5:1 contrast, opaque chart marks 3:1 on their background (README,
 * "Analytics and the dashboard").
 */
export const palette = {
  ink: '#1b1f24',
  muted: '#59636e',
  line: '#d0d7de',
  bg: '#f6f8fa',
  card: '#ffffff',
  /** Okabe–Ito blue. */
  blue: '#0072b2',
  /** Okabe–Ito vermillion: the experiment's arms other than the winner (never text: 3.9:1 on white). */
  vermillion: '#d55e00',
  /** Vermillion darkened for text (drop-off, paused, errors): ≥ 4.5:1 on white and the page, also as seen with a CVD. */
  alert: '#a84600',
  /** Okabe–Ito sky blue: the Sankey's links (drawn at `sankeyLinkOpacity`). */
  sky: '#56b4e9',
  /** The graph's edges and arrows: ≥ 3:1 on white. */
  edge: '#818a94',
  top: '#24292f',
  topText: '#ffffff',
  topMuted: '#c9d1d9',
} as const;

export type ColourName = keyof typeof palette;

/** Opacity of a Sankey link over the card (a translucent band: told apart by ΔE, not held to 3:1). */
export const sankeyLinkOpacity = 0.45;

/**
 * The colours drawn together in one chart, each with the background it sits on: every pair of marks
 * must be told apart, every mark from the background. A mark with an opacity is composited first.
 */
export const charts: Record<
  string,
  { background: ColourName; marks: Record<string, ColourName | { colour: ColourName; opacity: number }> }
> = {
  experiment: {
    background: 'card',
    marks: { arm: 'vermillion', winner: 'blue', holdoutOutline: 'muted', interval: 'ink' },
  },
  sankey: {
    background: 'card',
    marks: { node: 'blue', link: { colour: 'sky', opacity: sankeyLinkOpacity } },
  },
  graph: {
    background: 'card',
    marks: { node: 'blue', selected: 'ink', edge: 'edge', dropped: 'alert' },
  },
};

/**
 * The keyboard focus ring (a 3 px outline, 2 px outside the control) and the backgrounds it is drawn
 * on: ≥ 3:1 against each (WCAG 2.2 focus appearance). Blue, not Okabe–Ito orange (2.1:1 on white).
 */
export const focusRing: { colour: ColourName; on: ColourName[] } = { colour: 'blue', on: ['card', 'bg'] };

/** Text and its background, wherever the stylesheet puts them together. */
export const labels: { text: ColourName; on: ColourName; where: string }[] = [
  { text: 'ink', on: 'card', where: 'body text, chart labels' },
  { text: 'ink', on: 'bg', where: 'page text' },
  { text: 'muted', on: 'card', where: 'muted text, node types' },
  { text: 'muted', on: 'bg', where: 'muted text on the page' },
  { text: 'blue', on: 'card', where: 'active badge' },
  { text: 'alert', on: 'card', where: 'paused badge, "left ▼", errors' },
  { text: 'alert', on: 'bg', where: 'errors on the page' },
  { text: 'card', on: 'blue', where: 'primary button' },
  { text: 'topText', on: 'top', where: 'top bar' },
  { text: 'topMuted', on: 'top', where: 'top bar status' },
];

/** The palette as CSS custom properties, put before app.css by the build. */
export function paletteCss(): string {
  const properties = Object.entries(palette).map(([name, hex]) => `  --${kebab(name)}: ${hex};`);
  return `:root {\n${properties.join('\n')}\n  --sankey-link-opacity: ${sankeyLinkOpacity};\n}\n`;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
