/**
 * How the dashboard signs in, as `GET /app/config.json` says: locally with the API token typed in;
 * on AWS on the Cognito user pool's hosted page (password, first-login password change, MFA), with
 * the OAuth 2.0 authorization code grant and PKCE (RFC 7636, S256). The access token it gets back
 * is what the API's JWT authorizer accepts; it is kept for this tab only, like the API token.
 */
import { signIn } from './api.js';

export type SignInConfig = { kind: 'token' } | { kind: 'cognito'; url: string; clientId: string };

const pending = 'cairn.signin';

export async function loadSignInConfig(): Promise<SignInConfig> {
  const response = await fetch('/app/config.json');
  if (!response.ok) return { kind: 'token' };
  const body = (await response.json()) as { signIn?: SignInConfig };
  return body.signIn ?? { kind: 'token' };
}

/** Where Cognito sends the browser back: the dashboard itself (a callback URL of the app client). */
function redirectUri(): string {
  return new URL('/app/', location.origin).toString();
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

function randomString(bytes: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** Goes to the hosted sign-in page; comes back to the dashboard with `?code&state`. */
export async function startHostedSignIn(config: Extract<SignInConfig, { kind: 'cognito' }>): Promise<void> {
  const verifier = randomString(32);
  const state = randomString(16);
  sessionStorage.setItem(pending, JSON.stringify({ verifier, state, hash: location.hash }));
  const challenge = base64url(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))),
  );
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: 'openid email',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  location.assign(`${config.url}/oauth2/authorize?${query}`);
}

/**
 * On the way back from the hosted page: exchanges the code for tokens (with the PKCE verifier) and
 * keeps the access token. False when this page load is not such a return.
 */
export async function finishHostedSignIn(
  config: Extract<SignInConfig, { kind: 'cognito' }>,
): Promise<boolean> {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  const error = params.get('error');
  if (!code && !error) return false;
  const saved = JSON.parse(sessionStorage.getItem(pending) ?? 'null') as {
    verifier: string;
    state: string;
    hash: string;
  } | null;
  sessionStorage.removeItem(pending);
  history.replaceState(null, '', `${location.pathname}${saved?.hash || '#/'}`);
  if (error) throw new Error(`Sign-in failed: ${params.get('error_description') ?? error}`);
  if (!saved || params.get('state') !== saved.state) throw new Error('Sign-in failed: start again.');
  const response = await fetch(`${config.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: config.clientId,
      code: code!,
      redirect_uri: redirectUri(),
      code_verifier: saved.verifier,
    }),
  });
  if (!response.ok) throw new Error('Sign-in failed: the code was not accepted.');
  const tokens = (await response.json()) as { access_token?: string };
  if (!tokens.access_token) throw new Error('Sign-in failed: no access token.');
  signIn(tokens.access_token);
  return true;
}

/** Ends the Cognito session too, then comes back to the dashboard (a sign-out URL of the app client). */
export function hostedSignOut(config: Extract<SignInConfig, { kind: 'cognito' }>): void {
  const query = new URLSearchParams({ client_id: config.clientId, logout_uri: redirectUri() });
  location.assign(`${config.url}/logout?${query}`);
}
