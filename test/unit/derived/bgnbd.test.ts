import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  expectedPurchases,
  fitParameters,
  logLikelihood,
  type PurchaseHistory,
  probabilityAlive,
} from '../../../shared/derived/index.js';

/** The CDNOW parameters of Fader, Hardie & Lee (2005), in weeks. */
const cdnow = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

describe('BG/NBD against the published worked example', () => {
  it('expects 1.226 purchases in 39 weeks for x = 2, t_x = 30.43, T = 38.86 (the paper, §5)', () => {
    assert.equal(expectedPurchases(cdnow, { x: 2, tx: 30.43, T: 38.86 }, 39).toFixed(3), '1.226');
  });

  it('P(alive) follows the closed form of Fader, Hardie & Lee (2008 note) as BTYD computes it', () => {
    // bgnbd.PAlive(c(0.243, 4.414, 0.793, 2.426), x = 23, t.x = 39, T.cal = 39) = 1 / (1 + 0.793 / 24.426)
    assert.equal(probabilityAlive(cdnow, { x: 23, tx: 39, T: 39 }).toFixed(4), '0.9686');
    assert.equal(probabilityAlive(cdnow, { x: 2, tx: 30.43, T: 38.86 }).toFixed(4), '0.7266');
    assert.equal(probabilityAlive(cdnow, { x: 0, tx: 0, T: 38.86 }), 1, 'BG/NBD: no repeat purchase, alive');
    assert.ok(probabilityAlive(cdnow, { x: 0, tx: 0, T: 38.86 }, 'mbg-nbd') < 1, 'MBG/NBD: may have left');
    // The "increasing frequency paradox": more purchases then silence is a stronger sign of leaving.
    assert.ok(
      probabilityAlive(cdnow, { x: 20, tx: 30, T: 39 }) < probabilityAlive(cdnow, { x: 5, tx: 30, T: 39 }),
    );
  });
});

describe('maximum-likelihood fit', () => {
  /** Draws customers from the BG/NBD story itself, with a seeded generator. */
  function simulate(p: typeof cdnow, customers: number, T: number, seed = 7): PurchaseHistory[] {
    let state = seed;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return (state + 0.5) / 2 ** 31;
    };
    const gamma = (shape: number, scale: number): number => {
      if (shape < 1) return gamma(shape + 1, scale) * random() ** (1 / shape);
      const d = shape - 1 / 3;
      const c = 1 / Math.sqrt(9 * d);
      for (;;) {
        const z = Math.sqrt(-2 * Math.log(random())) * Math.cos(2 * Math.PI * random());
        const v = (1 + c * z) ** 3;
        if (v > 0 && Math.log(random()) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v * scale;
      }
    };
    const out: PurchaseHistory[] = [];
    for (let i = 0; i < customers; i++) {
      const lambda = gamma(p.r, 1 / p.alpha);
      const ga = gamma(p.a, 1);
      const drop = ga / (ga + gamma(p.b, 1));
      let t = 0;
      let x = 0;
      let tx = 0;
      for (;;) {
        t += -Math.log(random()) / lambda;
        if (t > T) break;
        x += 1;
        tx = t;
        if (random() < drop) break;
      }
      out.push({ x, tx, T });
    }
    return out;
  }

  it('recovers the parameters it generated data from, and beats them on likelihood', () => {
    const truth = { r: 0.5, alpha: 5, a: 0.8, b: 2.5 };
    const data = simulate(truth, 4000, 52);
    const fit = fitParameters(data);
    const ll = (p: typeof truth) => data.reduce((s, h) => s + logLikelihood(p, h), 0);
    assert.ok(fit.logLikelihood >= ll(truth) - 1e-6);
    assert.ok(Math.abs(fit.parameters.r - truth.r) / truth.r < 0.2, JSON.stringify(fit.parameters));
    assert.ok(
      Math.abs(fit.parameters.alpha - truth.alpha) / truth.alpha < 0.3,
      JSON.stringify(fit.parameters),
    );
  });
});
