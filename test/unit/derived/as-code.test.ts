import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { derivedFiles, derivedProblems } from '../../../statemachines/derived.js';

describe('computed traits and scores as code', () => {
  it('the examples in statemachines/ are valid', () => {
    assert.deepEqual(derivedProblems('statemachines'), []);
    assert.ok(derivedFiles('statemachines').some((f) => f.kind === 'trait' && f.id === 'totalSpend'));
  });

  it('reports every problem with its file and path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-derived-'));
    mkdirSync(join(dir, 'traits'));
    mkdirSync(join(dir, 'scores'));
    writeFileSync(
      join(dir, 'traits', 'spend.trait.yaml'),
      'id: other\nevent: X\naggregate: sum\nwithin: P1M\n',
    );
    writeFileSync(join(dir, 'scores', 'lead.score.yaml'), 'engagement: { rules: [{ event: X }] }\n');
    const problems = derivedProblems(dir).map((p) => `${p.file.split('/').pop()}: ${p.path}`);
    assert.deepEqual(problems.sort(), [
      'lead.score.yaml: engagement.rules[0].points',
      'spend.trait.yaml: id',
      'spend.trait.yaml: property',
      'spend.trait.yaml: within',
    ]);
  });
});
