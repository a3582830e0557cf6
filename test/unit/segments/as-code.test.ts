import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadJourneyFile } from '../../../statemachines/artifacts.js';
import { segmentProblems, segmentsInOrder } from '../../../statemachines/segments.js';

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-segments-'));
  mkdirSync(join(dir, 'segments'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('segments as code (statemachines/segments/<id>.segment.yaml)', () => {
  it('the examples are valid and come dependencies first', () => {
    assert.deepEqual(segmentProblems('statemachines'), []);
    const ids = segmentsInOrder('statemachines').map((s) => s.id);
    assert.ok(ids.indexOf('repeat-buyers') < ids.indexOf('vip-repeat-buyers'), ids.join());
  });

  it('reports every problem at once with its file and path: schema, id, unknown segments, cycles', () => {
    const dir = folder({
      'segments/a.segment.yaml': 'name: A\nwhere: { segment: b }\n',
      'segments/b.segment.yaml': 'name: B\nwhere: { any: [{ segment: a }, { segment: ghost }] }\n',
      'segments/c.segment.yaml': 'id: other\nname: ""\nwhere: { traits: { plan: ["pro"] }, stage: [new] }\n',
      'segments/d.segment.yaml': 'name: D\nwhere: { performed: { event: X, within: P1M } }\n',
    });
    const problems = segmentProblems(dir).map((p) => `${p.file.split('/').pop()}: ${p.path}: ${p.message}`);
    const has = (pattern: RegExp) =>
      assert.ok(
        problems.some((p) => pattern.test(p)),
        `${pattern} not in\n${problems.join('\n')}`,
      );
    has(/^a\.segment\.yaml: where: segments read each other in a cycle: (a → b → a|b → a → b)/);
    has(/^b\.segment\.yaml: where\.any\[1\]\.segment: unknown segment 'ghost'/);
    has(/^c\.segment\.yaml: id: must be 'c', the file's name/);
    has(/^c\.segment\.yaml: name: /);
    has(/^c\.segment\.yaml: where: holds one condition, not 2/);
    has(/^d\.segment\.yaml: where\.performed\.within: /);
    assert.throws(() => segmentsInOrder(dir), /cycle/);
  });

  it("a journey in the folder may name only the folder's segments", () => {
    const dir = folder({
      'segments/buyers.segment.yaml': 'name: Buyers\nwhere: { performed: { event: Order Completed } }\n',
      'j.journey.yaml': [
        'id: j',
        'name: J',
        'trigger: { segment: buyers, on: exit }',
        'start: route',
        'nodes:',
        '  route: { type: branch, cases: [{ when: { segment: sellers }, next: done }], default: done }',
        '  done: { type: exit }',
        '',
      ].join('\n'),
    });
    const { problems } = loadJourneyFile(join(dir, 'j.journey.yaml'));
    assert.deepEqual(
      problems.map((p) => `${p.path}: ${p.message}`),
      ["nodes.route.cases[0].when.segment: unknown segment 'sellers'"],
    );
  });
});
