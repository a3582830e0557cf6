/**
 * The dashboard's files as the api serves them (`GET /app/`, `GET /app/{file}`), from the folder the
 * build wrote (env `CAIRN_APP_DIR`; on AWS the `app/` folder next to the bundled handler), and
 * `config.json`: how to sign in (the API token, or the Cognito hosted page on AWS). Only these names
 * are ever read: no path from the request reaches the file system.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface DashboardFile {
  body: string;
  contentType: string;
}

export interface DashboardAssets {
  get(name: string): Promise<DashboardFile | undefined>;
  /** The Content-Security-Policy every file is served with. */
  csp: string;
}

/** The Cognito hosted sign-in page (its domain's base URL) and the app client the dashboard uses. */
export interface DashboardSignIn {
  url: string;
  clientId: string;
}

const files: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/**
 * Strict: scripts, styles and requests to this origin only (and the sign-in domain's token endpoint
 * on AWS); no inline script or style attribute, no framing, no forms, no plugins.
 */
export function dashboardCsp(signInUrl?: string): string {
  const connect = signInUrl ? `'self' ${new URL(signInUrl).origin}` : "'self'";
  return (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    `connect-src ${connect}; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`
  );
}

export function folderAssets(dir: string, signIn?: DashboardSignIn): DashboardAssets {
  const cache = new Map<string, DashboardFile>();
  const config: DashboardFile = {
    contentType: 'application/json; charset=utf-8',
    body: JSON.stringify({
      signIn: signIn ? { kind: 'cognito', url: signIn.url, clientId: signIn.clientId } : { kind: 'token' },
    }),
  };
  return {
    csp: dashboardCsp(signIn?.url),
    async get(name) {
      if (name === 'config.json') return config;
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
