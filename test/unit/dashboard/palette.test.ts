/**
 * The dashboard stays readable for colour-blind users: its real palette
 * (functions/api/app/src/palette.ts, the colours the stylesheet uses) seen with normal vision and
 * under simulated protanopia, deuteranopia and tritanopia (Machado et al. 2009, severity 1.0, in
 * linear RGB: test/support/colour.ts cites the source).
 *
 * Thresholds:
 * - every pair of colours drawn together in one chart, and each against the chart's background:
 *   CIEDE2000 ΔE ≥ 10. A just-noticeable difference is ~1 ΔE00 (~2.3 in CIE76, Sharma 2003) for
 *   large patches side by side; chart marks are small (1.5-3 px lines, 18 px bars) and the
 *   difference needed grows as marks shrink (Stone, Szafir & Setlur 2014, "An Engineering Model for
 *   Color Difference as a Function of Size"), and displays are not calibrated: 10 asks for a
 *   difference seen at a glance, not one found by looking hard.
 * - label text on its background: WCAG 2.x contrast ≥ 4.5:1 (success criterion 1.4.3), checked on the
 *   simulated colours too.
 * - opaque chart marks on their background: ≥ 3:1 (WCAG 2.1 1.4.11, non-text contrast).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { charts, focusRing, labels, palette, paletteCss } from '../../../functions/api/app/src/palette.js';
import {
  contrastRatio,
  deltaE2000,
  hexToRgb,
  machado2009,
  over,
  type Rgb,
  simulate,
  toLab,
} from '../../support/colour.js';

const minimumDeltaE = 10;
const minimumTextContrast = 4.5;
const minimumMarkContrast = 3;

const visions: Record<string, ((rgb: Rgb) => Rgb) | undefined> = {
  normal: undefined,
  protanopia: (rgb) => simulate(rgb, machado2009.protanopia),
  deuteranopia: (rgb) => simulate(rgb, machado2009.deuteranopia),
  tritanopia: (rgb) => simulate(rgb, machado2009.tritanopia),
};
const seen = (rgb: Rgb, vision: string) => visions[vision]?.(rgb) ?? rgb;

/** A chart's marks as drawn (translucent ones composited over the background), and the background. */
function drawn(chart: (typeof charts)[string]) {
  const background = hexToRgb(palette[chart.background]);
  const marks = Object.entries(chart.marks).map(([role, mark]) =>
    typeof mark === 'string'
      ? { role, rgb: hexToRgb(palette[mark]), opaque: true }
      : { role, rgb: over(hexToRgb(palette[mark.colour]), mark.opacity, background), opaque: false },
  );
  return { background, marks };
}

describe('colour maths', () => {
  it('CIEDE2000 gives the published values of Sharma, Wu & Dalal (2005), table 1', () => {
    const pairs: [Rgb, Rgb, number][] = [
      [[50, 2.6772, -79.7751], [50, 0, -82.7485], 2.0425],
      [[50, 0, 0], [50, -1, 2], 2.3669],
      [[50, 2.5, 0], [73, 25, -18], 27.1492],
      [[60.2574, -34.0099, 36.2677], [60.4626, -34.1751, 39.4387], 1.2644],
      [[22.7233, 20.0904, -46.694], [23.0331, 14.973, -42.5619], 2.0373],
    ];
    for (const [a, b, expected] of pairs) {
      assert.ok(
        Math.abs(deltaE2000(a, b) - expected) < 5e-5,
        `${a} / ${b}: ${deltaE2000(a, b)} ≠ ${expected}`,
      );
      assert.ok(Math.abs(deltaE2000(b, a) - expected) < 5e-5, 'symmetric');
    }
  });

  it('CIELAB and WCAG contrast give their known values', () => {
    const white = toLab(hexToRgb('#ffffff'));
    assert.ok(Math.abs(white[0] - 100) < 1e-3 && Math.abs(white[1]) < 1e-2 && Math.abs(white[2]) < 1e-2);
    assert.equal(Math.round(contrastRatio(hexToRgb('#000000'), hexToRgb('#ffffff')) * 100) / 100, 21);
    // #767676 is the lightest grey with 4.5:1 on white, #777777 just misses it.
    assert.ok(contrastRatio(hexToRgb('#767676'), hexToRgb('#ffffff')) >= 4.5);
    assert.ok(contrastRatio(hexToRgb('#777777'), hexToRgb('#ffffff')) < 4.5);
  });

  it('the simulations keep greys and lose what each deficiency loses', () => {
    for (const [name, simulation] of Object.entries(visions)) {
      if (!simulation) continue;
      for (const grey of ['#ffffff', '#808080']) {
        const out = simulation(hexToRgb(grey));
        const rgb = hexToRgb(grey);
        assert.ok(
          out.every((c, i) => Math.abs(c - rgb[i]!) < 0.002),
          `${name} keeps ${grey}`,
        );
      }
    }
    // Orange and yellow-green, far apart with normal vision, are one colour for a deuteranope.
    const orange = hexToRgb('#ff7f00');
    const yellowGreen = hexToRgb('#7fbf00');
    const difference = (vision: string) =>
      deltaE2000(toLab(seen(orange, vision)), toLab(seen(yellowGreen, vision)));
    assert.ok(difference('normal') > 40, `normal ${difference('normal')}`);
    assert.ok(difference('deuteranopia') < 3, `deuteranopia ${difference('deuteranopia')}`);
    assert.ok(difference('tritanopia') > 40, `tritanopia ${difference('tritanopia')}`);
    // A dichromat cannot see what the simulation took away: simulating twice changes little, while
    // the first simulation moved the colour far (red for the red-green deficiencies, orange for tritanopia).
    for (const [vision, hex] of [
      ['protanopia', '#d62728'],
      ['deuteranopia', '#d62728'],
      ['tritanopia', '#e69f00'],
    ] as const) {
      const once = seen(hexToRgb(hex), vision);
      assert.ok(deltaE2000(toLab(hexToRgb(hex)), toLab(once)) > 30, `${vision} moves ${hex}`);
      assert.ok(deltaE2000(toLab(once), toLab(seen(once, vision))) < 6, `${vision} twice`);
    }
  });
});

describe('dashboard palette, colour-blind safe', () => {
  for (const vision of Object.keys(visions)) {
    it(`${vision}: the colours of each chart stay apart (ΔE00 ≥ ${minimumDeltaE}), marks on their background ≥ ${minimumMarkContrast}:1`, () => {
      const failures: string[] = [];
      for (const [name, chart] of Object.entries(charts)) {
        const { background, marks } = drawn(chart);
        const all = [...marks, { role: 'background', rgb: background, opaque: true }];
        for (let i = 0; i < all.length; i++) {
          for (let j = i + 1; j < all.length; j++) {
            const a = all[i]!;
            const b = all[j]!;
            const dE = deltaE2000(toLab(seen(a.rgb, vision)), toLab(seen(b.rgb, vision)));
            if (dE < minimumDeltaE) failures.push(`${name}: ${a.role} / ${b.role} ΔE00 ${dE.toFixed(1)}`);
          }
        }
        for (const mark of marks.filter((m) => m.opaque)) {
          const ratio = contrastRatio(seen(mark.rgb, vision), seen(background, vision));
          if (ratio < minimumMarkContrast)
            failures.push(`${name}: ${mark.role} on ${chart.background} ${ratio.toFixed(2)}:1`);
        }
      }
      assert.deepEqual(failures, []);
    });

    it(`${vision}: label text keeps ${minimumTextContrast}:1 on its background`, () => {
      const failures = labels
        .map((label) => ({
          label,
          ratio: contrastRatio(
            seen(hexToRgb(palette[label.text]), vision),
            seen(hexToRgb(palette[label.on]), vision),
          ),
        }))
        .filter(({ ratio }) => ratio < minimumTextContrast)
        .map(({ label, ratio }) => `${label.text} on ${label.on} (${label.where}) ${ratio.toFixed(2)}:1`);
      assert.deepEqual(failures, []);
    });

    it(`${vision}: the keyboard focus ring keeps ${minimumMarkContrast}:1 on every background it is drawn on`, () => {
      const ring = seen(hexToRgb(palette[focusRing.colour]), vision);
      const failures = focusRing.on
        .map((on) => ({ on, ratio: contrastRatio(ring, seen(hexToRgb(palette[on]), vision)) }))
        .filter(({ ratio }) => ratio < minimumMarkContrast)
        .map(({ on, ratio }) => `${focusRing.colour} on ${on} ${ratio.toFixed(2)}:1`);
      assert.deepEqual(failures, []);
    });
  }

  it('the stylesheet uses only colours of the palette, and all of them exist', () => {
    const css = readFileSync(new URL('../../../functions/api/app/src/app.css', import.meta.url), 'utf8');
    assert.deepEqual(
      css.match(/#[0-9a-f]{3,8}\b|rgba?\(|hsla?\(/gi) ?? [],
      [],
      'app.css holds no colour of its own',
    );
    const defined = new Set([...paletteCss().matchAll(/--([a-z-]+):/g)].map((m) => m[1]));
    const used = new Set([...css.matchAll(/var\(--([a-z-]+)\)/g)].map((m) => m[1]));
    assert.deepEqual(
      [...used].filter((name) => !defined.has(name)),
      [],
      'every var(--…) is in palette.ts',
    );
    assert.match(
      css,
      new RegExp(`:focus-visible[^}]*outline: 3px solid var\\(--${focusRing.colour}\\)`),
      'the focus ring is focusRing.colour',
    );
  });
});
