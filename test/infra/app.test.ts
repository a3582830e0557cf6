/**
 * The deployable app as a user runs it: `cdk synth` through the CLI (offline, esbuild on this machine,
 * no Docker), with cdk-nag on. Then: every Lambda bundle exists, is small, bundles the SDK, and loads;
 * every checked-in journey is deployed with exactly its compiled ASL.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { cairnCodeRoot } from '../../infra/aws/cairn-journeys.js';
import { readCheckedInJourneys } from '../../infra/aws/journey-definitions.js';

const outdir = mkdtempSync(join(tmpdir(), 'cairn-app-'));
const cli = join(cairnCodeRoot, 'node_modules', 'aws-cdk', 'bin', 'cdk');
const run = spawnSync(process.execPath, [cli, 'synth', '--quiet', '--no-notices', '--output', outdir], {
  cwd: cairnCodeRoot,
  encoding: 'utf8',
  env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', CI: 'true' },
  // Bundling nine functions takes ~20 s on an idle 2-core machine; a loaded one (other test runs
  // beside it) has taken over 110 s, so the bound is generous: it only stops a hung CLI.
  timeout: 300_000,
});

interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}
const templatePath = join(outdir, 'Cairn.template.json');
const resources: Record<string, Resource> = existsSync(templatePath)
  ? JSON.parse(readFileSync(templatePath, 'utf8')).Resources
  : {};
after(() => rmSync(outdir, { recursive: true, force: true }));
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

test('`cdk synth` succeeds offline with cdk-nag on', () => {
  assert.equal(run.status, 0, `cdk synth failed:\n${run.stderr}\n${run.stdout}`);
  assert.ok(existsSync(templatePath));
});

describe('Lambda bundles', () => {
  const functions = ofType('AWS::Lambda::Function');
  const bundleOf = (resource: Resource) => join(outdir, String(resource.Metadata?.['aws:asset:path']));

  test('one bundle per function, built by esbuild into a single ESM file (+ the dashboard for the api)', () => {
    assert.equal(functions.length, 9); // seven Cairn functions + the journey catalog provider (deploy) + broadcast
    for (const [id, fn] of functions) {
      const dir = bundleOf(fn);
      assert.ok(existsSync(join(dir, 'index.mjs')), `${id}: ${dir}/index.mjs`);
      // The api also ships the dashboard it serves (`app/`: index.html, app.js, app.css).
      const expected = id.startsWith('CairnApiFunction') ? ['app', 'index.mjs'] : ['index.mjs'];
      assert.deepEqual(
        readdirSync(dir).filter((f) => !f.endsWith('.map')),
        expected,
        `${id} has no other files to ship`,
      );
    }
  });

  test('each bundle is minified, carries its own (tree-shaken) AWS SDK, and stays small', () => {
    for (const [id, fn] of functions) {
      const file = join(bundleOf(fn), 'index.mjs');
      const size = statSync(file).size;
      // The 1 MB goal is tracked by `npm run bench:synth`; this guards against pulling in something
      // that does not belong in a Lambda at all (aws-cdk-lib, a second SDK, a test helper).
      assert.ok(size < 1.5 * 1024 * 1024, `${id}: ${size} bytes`);
      const lines = readFileSync(file, 'utf8').split('\n').length;
      assert.ok(size / lines > 1000, `${id} is minified (${lines} lines)`);
      const code = readFileSync(file, 'utf8');
      assert.doesNotMatch(code, /from\s*["']@aws-sdk\//, `${id} imports no external SDK`);
    }
  });

  test('each bundle loads on Node and exports its handler', async () => {
    const env = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      CAIRN_PROFILES_TABLE: 'profiles',
      CAIRN_JOURNEYS_TABLE: 'journeys',
    };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      for (const [id, fn] of functions) {
        const module = await import(pathToFileURL(join(bundleOf(fn), 'index.mjs')).href);
        assert.equal(typeof module.handler, 'function', `${id} exports handler`);
      }
    } finally {
      for (const key of Object.keys(env)) if (!(key in saved)) delete process.env[key];
    }
  });
});

describe('journeys from statemachines/', () => {
  const journeys = readCheckedInJourneys(join(cairnCodeRoot, 'statemachines'));
  const machines = ofType('AWS::StepFunctions::StateMachine');

  test('one state machine, version and alias per journey', () => {
    assert.deepEqual(
      machines.map(([, m]) => m.Properties?.StateMachineName).sort(),
      journeys.map((j) => `cairn-${j.id}`).sort(),
    );
    assert.equal(ofType('AWS::StepFunctions::StateMachineVersion').length, journeys.length);
    assert.equal(ofType('AWS::StepFunctions::StateMachineAlias').length, journeys.length);
  });

  for (const journey of journeys) {
    test(`${journey.id}: the definition is exactly the checked-in ${journey.id}.asl.json`, () => {
      const [, machine] = machines.find(([, m]) => m.Properties?.StateMachineName === `cairn-${journey.id}`)!;
      assert.equal(machine.Properties?.DefinitionString, readFileSync(journey.aslPath, 'utf8'));
    });
  }
});

describe('checked-in segments', () => {
  test('one Custom::CairnSegment per statemachines/segments file, a reader after what it reads, journeys after every segment', () => {
    const segments = ofType('Custom::CairnSegment');
    const ids = Object.fromEntries(segments.map(([id, r]) => [String(r.Properties?.SegmentId), id]));
    assert.deepEqual(Object.keys(ids).sort(), ['repeat-buyers', 'vip-repeat-buyers']);
    const dependsOn = (resource: Resource) =>
      (resource as Resource & { DependsOn?: string[] }).DependsOn ?? [];
    const [, vip] = segments.find(([id]) => id === ids['vip-repeat-buyers'])!;
    assert.ok(dependsOn(vip).includes(ids['repeat-buyers']!));
    for (const [, entry] of ofType('Custom::CairnJourney'))
      for (const id of Object.values(ids)) assert.ok(dependsOn(entry).includes(id));
  });
});
