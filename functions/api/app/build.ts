/**
 * Builds the dashboard (`GET /app/`) with esbuild: one minified ES module, one stylesheet, one page.
 * Nothing is committed: `npm start` and the tests build it at start (~0.3 s), the CDK bundling of the
 * api function builds it next to the handler. No CDN: every library is bundled.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { paletteCss } from './src/palette.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Writes index.html, app.js and app.css into `outDir`; returns their sizes in bytes. */
export async function buildDashboard(outDir: string): Promise<Record<string, number>> {
  await mkdir(outDir, { recursive: true });
  const result = await build({
    entryPoints: [join(here, 'src', 'main.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    write: false,
    legalComments: 'eof',
    logLevel: 'silent',
  });
  const js = result.outputFiles[0]!.text;
  // The colours come from palette.ts (custom properties); app.css only uses them.
  const css = paletteCss() + (await readFile(join(here, 'src', 'app.css'), 'utf8'));
  const html = await readFile(join(here, 'src', 'index.html'), 'utf8');
  await Promise.all([
    writeFile(join(outDir, 'app.js'), js),
    writeFile(join(outDir, 'app.css'), css),
    writeFile(join(outDir, 'index.html'), html),
  ]);
  return { 'app.js': js.length, 'app.css': css.length, 'index.html': html.length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? join(here, '..', '..', '..', '.cairn', 'app');
  console.log(JSON.stringify(await buildDashboard(out)));
}
