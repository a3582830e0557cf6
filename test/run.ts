/**
 * Runs the suite with Node's test runner. Integration and e2e tests need the local stack: this
 * starts one (in memory, on free ports) for the whole run, hands its URLs to the test processes
 * through the environment, and stops it at the end. Unit tests need nothing.
 *
 *   tsx test/run.ts                 every test
 *   tsx test/run.ts unit            only test/unit
 *   tsx test/run.ts test/e2e/x.test.ts   named files
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const kinds = ['unit', 'integration', 'e2e', 'infra'];

function testFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => join(dir, file))
    .sort();
}

const args = process.argv.slice(2);
const files = args.length
  ? args.flatMap((arg) =>
      kinds.includes(arg)
        ? testFiles(join('test', arg))
        : statSync(arg).isDirectory()
          ? testFiles(arg)
          : [arg],
    )
  : kinds.flatMap((kind) => testFiles(join('test', kind)));

if (files.length === 0) {
  console.error('No test files found.');
  process.exit(1);
}

const needsStack = files.some((file) => !file.includes(`test${'/'}unit${'/'}`));
let stop: (() => Promise<void>) | undefined;
const env: NodeJS.ProcessEnv = { ...process.env };
if (needsStack) {
  const { startTestStack } = await import('./support/stack.js');
  const stack = await startTestStack();
  stop = stack.stop;
  Object.assign(env, stack.env);
}

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    `--test-concurrency=${process.env.CAIRN_TEST_CONCURRENCY ?? 1}`,
    ...files,
  ],
  { stdio: 'inherit', env },
);
const code: number = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
await stop?.();
process.exit(code);
