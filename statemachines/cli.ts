/**
 * npm run validate   every statemachines/*.journey.yaml and template: prints each problem as
 *                    file: path: message, exits 1 when there is any
 * npm run compile    regenerates <id>.asl.json and journey.schema.json (deterministic);
 *                    `--check` writes nothing and exits 1 when a generated file is stale
 * --dir <path>       another folder laid out the same way (tests)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { generatedFiles, statemachinesDir, validateAll } from './artifacts.js';

const [command, ...flags] = process.argv.slice(2);
const dirFlag = flags.indexOf('--dir');
const dir = dirFlag >= 0 && flags[dirFlag + 1] ? resolve(flags[dirFlag + 1]!) : statemachinesDir;

function validate(): number {
  const problems = validateAll(dir);
  for (const p of problems) console.error(`${p.file}: ${p.path}: ${p.message}`);
  if (problems.length > 0) {
    console.error(`${problems.length} problem(s).`);
    return 1;
  }
  console.log('All journeys and templates are valid.');
  return 0;
}

function compile(check: boolean): number {
  if (validate() !== 0) return 1;
  let stale = 0;
  for (const [file, content] of generatedFiles(dir)) {
    const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    if (current === content) continue;
    stale++;
    if (check) console.error(`${relative(process.cwd(), file)} is stale: run npm run compile`);
    else {
      writeFileSync(file, content);
      console.log(`wrote ${relative(process.cwd(), file)}`);
    }
  }
  if (!check && stale === 0) console.log('Everything was up to date.');
  return check && stale > 0 ? 1 : 0;
}

if (command === 'validate') process.exit(validate());
else if (command === 'compile') process.exit(compile(flags.includes('--check')));
else {
  console.error('usage: tsx statemachines/cli.ts validate | compile [--check] [--dir <path>]');
  process.exit(2);
}
