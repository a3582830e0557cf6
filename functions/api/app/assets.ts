/**
 * The dashboard's files as the api serves them (`GET /app/`, `GET /app/{file}`), from the folder the
 * build wrote (env `CAIRN_APP_DIR`; on AWS the `app/` folder next to the bundled handler). Only
 * these three names are ever read: no path from the request reaches the file system.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface DashboardFile {
  body: string;
  contentType: string;
}

export interface DashboardAssets {
  get(name: string): Promise<DashboardFile | undefined>;
}

const files: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/**
 * Strict: scripts, styles and requests to this origin only; no inline script or style attribute,
 * no framing, no forms, no plugins.
 */
export const dashboardCsp =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function folderAssets(dir: string): DashboardAssets {
  const cache = new Map<string, DashboardFile>();
  return {
    async get(name) {
      const contentType = files[name];
      if (!contentType) return undefined;
      const hit = cache.get(name);
      if (hit) return hit;
      try {
        const file = { body: await readFile(join(dir, name), 'utf8'), contentType };
        cache.set(name, file);
        return file;
      } catch {
        return undefined;
      }
    },
  };
}
