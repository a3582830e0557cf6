/**
 * `npm run bench:synth`: how long `cdk synth` takes (the CLI, offline, local esbuild, cdk-nag on) and
 * how big each Lambda bundle is (goal: < 1 MB minified each, AWS SDK v3 clients tree-shaken). The
 * per-package breakdown comes from esbuild's metafile for the same entry and options.
 * Writes bench/results/synth.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';
import { cairnCodeRoot, cairnFunctionNames } from '../infra/aws/cairn-journeys.js';

const runs = Number(process.env.CAIRN_BENCH_SYNTH_RUNS ?? 3);
const cli = join(cairnCodeRoot, 'node_modules', 'aws-cdk', 'bin', 'cdk');

interface Resource {
  Type: string;
  Metadata?: Record<string, unknown>;
  Properties?: Record<string, unknown>;
}

/** CPU seconds used by finished child processes (Linux: cutime + cstime of /proc/self/stat), else NaN. */
function childCpuSeconds(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return Number.NaN;
  }
}

function synthOnce(): { seconds: number; cpuSeconds: number; outdir: string } {
  const outdir = mkdtempSync(join(tmpdir(), 'cairn-bench-synth-'));
  const cpuBefore = childCpuSeconds();
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [cli, 'synth', '--quiet', '--no-notices', '--output', outdir], {
    cwd: cairnCodeRoot,
    encoding: 'utf8',
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', CI: 'true' },
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`cdk synth failed:\n${result.stderr}\n${result.stdout}`);
  return { seconds, cpuSeconds: childCpuSeconds() - cpuBefore, outdir };
}

/**
 * `import { z } from 'zod'` makes the bundle keep zod's whole namespace (every locale: ~270 KB);
 * `import * as z from 'zod'` (what zod recommends for v4) lets esbuild drop what is unused. This
 * rewrites the shared sources that way in memory, to measure what that one-line change would save.
 */
const zodNamespaceImport: Plugin = {
  name: 'zod-namespace-import',
  setup(builder) {
    builder.onLoad({ filter: /[\\/]shared[\\/].*\.ts$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8').replace(
        /import \{ z \} from 'zod';/g,
        "import * as z from 'zod';",
      ),
      loader: 'ts',
    }));
  },
};

/** Bytes in the bundle per npm package (or `cairn` for our own code), largest first. */
async function packageBreakdown(name: string, plugins: Plugin[] = []): Promise<Record<string, number>> {
  const result = await build({
    plugins,
    entryPoints: [join(cairnCodeRoot, 'functions', name, 'handler.ts')],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    keepNames: true,
    mainFields: ['module', 'main'],
    tsconfig: join(cairnCodeRoot, 'tsconfig.json'),
    outfile: 'index.mjs',
    logLevel: 'silent',
  });
  const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint)!;
  const byPackage: Record<string, number> = {};
  for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const key = match ? match[1]! : 'cairn';
    byPackage[key] = (byPackage[key] ?? 0) + bytesInOutput;
  }
  return Object.fromEntries(Object.entries(byPackage).sort(([, a], [, b]) => b - a));
}

const timings: number[] = [];
const cpuTimings: number[] = [];
let lastOutdir = '';
for (let i = 0; i < runs; i++) {
  const { seconds, cpuSeconds, outdir } = synthOnce();
  timings.push(Number(seconds.toFixed(2)));
  cpuTimings.push(Number(cpuSeconds.toFixed(2)));
  if (lastOutdir) rmSync(lastOutdir, { recursive: true, force: true });
  lastOutdir = outdir;
  console.log(`cdk synth #${i + 1}: ${seconds.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU`);
}

const template = JSON.parse(readFileSync(join(lastOutdir, 'Cairn.template.json'), 'utf8')) as {
  Resources: Record<string, Resource>;
};
const bundles: Record<string, unknown> = {};
for (const name of cairnFunctionNames) {
  const fn = Object.values(template.Resources).find(
    (r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Description === `Cairn ${name}`,
  )!;
  const file = join(lastOutdir, String(fn.Metadata?.['aws:asset:path']), 'index.mjs');
  const code = readFileSync(file);
  const packages = await packageBreakdown(name);
  const sdkBytes = Object.entries(packages)
    .filter(
      ([pkg]) => pkg.startsWith('@aws-sdk/') || pkg.startsWith('@smithy/') || pkg.startsWith('@aws-crypto/'),
    )
    .reduce((sum, [, bytes]) => sum + bytes, 0);
  const withNamespaceImport = Object.values(await packageBreakdown(name, [zodNamespaceImport])).reduce(
    (sum, bytes) => sum + bytes,
    0,
  );
  bundles[name] = {
    bytes: statSync(file).size,
    bytesIfZodNamespaceImport: withNamespaceImport,
    gzipBytes: gzipSync(code).length,
    underOneMegabyte: statSync(file).size < 1024 * 1024,
    awsSdkBytes: sdkBytes,
    largestPackages: Object.fromEntries(Object.entries(packages).slice(0, 8)),
  };
  console.log(
    `${name.padEnd(10)} ${(statSync(file).size / 1024).toFixed(0).padStart(5)} KiB (SDK ${(sdkBytes / 1024).toFixed(0)} KiB)`,
  );
}
rmSync(lastOutdir, { recursive: true, force: true });

const sorted = [...timings].sort((a, b) => a - b);
const results = {
  benchmark: 'synth',
  at: new Date().toISOString(),
  machine: {
    node: process.version,
    cpus: cpus().length,
    loadAverage: (await import('node:os')).loadavg()[0],
  },
  synth: {
    what: 'npx cdk synth (CLI, offline, esbuild bundling of 5 Lambdas, cdk-nag AwsSolutions), wall seconds',
    runs: timings,
    medianSeconds: sorted[Math.floor(sorted.length / 2)],
    minSeconds: sorted[0],
    // CPU time of the CLI and its children: what the synth costs on an idle machine, whatever the load.
    cpuSeconds: cpuTimings,
  },
  bundles,
};
mkdirSync(join(cairnCodeRoot, 'bench', 'results'), { recursive: true });
writeFileSync(join(cairnCodeRoot, 'bench', 'results', 'synth.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(`median ${results.synth.medianSeconds} s → bench/results/synth.json`);
