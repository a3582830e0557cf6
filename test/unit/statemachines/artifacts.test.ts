import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { AslDefinition } from '../../../shared/journeys/asl.js';
import { commonPathTransitions } from '../../../shared/journeys/compile.js';
import { validateTemplate } from '../../../shared/templates/render.js';
import {
  generatedFiles,
  journeyFiles,
  loadJourneyFile,
  loadTemplate,
  statemachinesDir,
  templateFiles,
  validateAll,
} from '../../../statemachines/artifacts.js';
import { aslProblems } from '../../../statemachines/asl-check.js';

describe('statemachines/', () => {
  it('has the three example journeys, all valid (schema, graph, templates, compiled ASL through asl-validator)', () => {
    assert.deepEqual(
      journeyFiles().map((file) => file.slice(statemachinesDir.length + 1)),
      ['cart-recovery.journey.yaml', 'webinar.journey.yaml', 'welcome.journey.yaml'],
    );
    assert.deepEqual(validateAll(), []);
  });

  it('checked-in *.asl.json and journey.schema.json are up to date (run `npm run compile` when this fails)', () => {
    for (const [file, expected] of generatedFiles()) {
      let current: string | undefined;
      try {
        current = readFileSync(file, 'utf8');
      } catch {
        current = undefined;
      }
      assert.ok(
        current === expected,
        `${file.slice(statemachinesDir.length + 1)} is stale: run npm run compile`,
      );
    }
  });

  it('every checked-in ASL passes asl-validator and costs at most 2 transitions per node', () => {
    for (const file of journeyFiles()) {
      const asl = JSON.parse(
        readFileSync(file.replace('.journey.yaml', '.asl.json'), 'utf8'),
      ) as AslDefinition;
      assert.deepEqual(aslProblems(asl), [], file);
      for (const [node, count] of Object.entries(commonPathTransitions(asl)))
        assert.ok(count <= 2, `${file}: ${node} = ${count}`);
    }
  });

  it('asl-validator does catch a broken definition', () => {
    const broken = {
      StartAt: 'a',
      States: { a: { Type: 'Pass', Next: 'missing' } },
    } as unknown as AslDefinition;
    assert.ok(aslProblems(broken).length > 0);
  });

  it('templates have a subject and html or text, and parse as Liquid', () => {
    // The renderer's own engines: its filters (safe_url) included.
    assert.ok(templateFiles().length >= 9);
    for (const file of templateFiles()) validateTemplate(loadTemplate(file));
  });

  it('loadTemplate refuses a template whose Liquid does not parse, naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-template-'));
    try {
      const file = join(dir, 'broken.template.yaml');
      writeFileSync(file, 'subject: Hi\nhtml: "{% if vip %}unclosed"\n');
      assert.throws(
        () => loadTemplate(file),
        (error: unknown) =>
          error instanceof Error && /html/.test(error.message) && /not closed/.test(error.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the JSON Schema accepts the examples and rejects an unknown node type', () => {
    const require = createRequire(import.meta.url);
    let Ajv2020: new (
      options: object,
    ) => { compile(schema: object): ((data: unknown) => boolean) & { errors?: unknown } };
    try {
      Ajv2020 = require('ajv/dist/2020').default;
    } catch {
      return; // ajv comes with asl-validator; without it there is nothing to check the schema with
    }
    const schema = JSON.parse(readFileSync(join(statemachinesDir, 'journey.schema.json'), 'utf8'));
    const validate = new Ajv2020({ strict: false }).compile(schema);
    for (const file of journeyFiles()) {
      const document = parse(readFileSync(file, 'utf8'));
      assert.ok(validate(document), `${file}: ${JSON.stringify(validate.errors)}`);
    }
    const bad = parse(readFileSync(journeyFiles()[0]!, 'utf8'));
    bad.nodes.extra = { type: 'sms', next: 'done' };
    assert.equal(validate(bad), false);
  });
});

describe('statemachines/cli.ts', () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(statemachinesDir, 'cli.ts'), ...args], {
      encoding: 'utf8',
    });

  it('validate prints every problem as file: path: message and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-journeys-'));
    try {
      mkdirSync(join(dir, 'templates'));
      writeFileSync(join(dir, 'templates', 'hello.template.yaml'), 'subject: Hi\ntext: Hello\n');
      writeFileSync(
        join(dir, 'broken.journey.yaml'),
        [
          'id: broken',
          'name: Broken',
          'trigger: { event: "Signed Up" }',
          'start: a',
          'nodes:',
          '  a: { type: email, template: missing, next: b }',
          '  b: { type: wait, for: P1M, next: ghost }',
          '  done: { type: exit }',
        ].join('\n'),
      );
      const result = cli(['validate', '--dir', dir]);
      assert.equal(result.status, 1);
      const lines = result.stderr.trim().split('\n');
      const file = lines[0]!.split(': ')[0]!;
      assert.match(file, /broken\.journey\.yaml$/);
      for (const expected of [
        "nodes.a.template: unknown template 'missing'",
        "nodes.b.for: 'P1M' uses years or months",
        "nodes.b.next: unknown node 'ghost'",
        "nodes.done: is not reachable from start 'a'",
      ]) {
        assert.ok(
          lines.some((line) => line.startsWith(`${file}: ${expected}`)),
          `${expected} in\n${result.stderr}`,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compile --check exits 0 on the checked-in folder (nothing stale)', () => {
    const result = cli(['compile', '--check']);
    assert.equal(result.status, 0, result.stderr);
  });

  it('loadJourneyFile requires the id to match the file name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-journeys-'));
    try {
      writeFileSync(
        join(dir, 'one.journey.yaml'),
        'id: two\nname: X\ntrigger: { event: A }\nstart: d\nnodes: { d: { type: exit } }\n',
      );
      const { problems } = loadJourneyFile(join(dir, 'one.journey.yaml'));
      assert.deepEqual(
        problems.map((p) => `${p.path}: ${p.message}`),
        ["id: must be 'one', the file's name"],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
