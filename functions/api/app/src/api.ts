/** Calls to the Cairn API with the signed-in token (kept for this browser tab only). */
const tokenKey = 'cairn.token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function token(): string | null {
  return sessionStorage.getItem(tokenKey);
}

export function signIn(value: string): void {
  sessionStorage.setItem(tokenKey, value);
}

export function signOut(): void {
  sessionStorage.removeItem(tokenKey);
}

async function call(method: string, path: string): Promise<Response> {
  const response = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${token() ?? ''}` },
  });
  if (!response.ok) {
    let message = response.statusText;
    try {
      message = ((await response.json()) as { error?: { message?: string } }).error?.message ?? message;
    } catch {
      // not JSON: keep the status text
    }
    throw new ApiError(response.status, message);
  }
  return response;
}

// biome-ignore lint/suspicious/noExplicitAny: the pages read API responses field by field
export async function get(path: string): Promise<any> {
  return (await call('GET', path)).json();
}

// biome-ignore lint/suspicious/noExplicitAny: as get
export async function post(path: string): Promise<any> {
  return (await call('POST', path)).json();
}

/** GET, or null when that part of Cairn is not there (404 / 501): pages then leave it out. */
// biome-ignore lint/suspicious/noExplicitAny: as get
export async function optional(path: string): Promise<any | null> {
  try {
    return await get(path);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 501)) return null;
    throw error;
  }
}

/** Downloads an API response as a file (links cannot carry the token). */
export async function download(path: string, filename: string): Promise<void> {
  const blob = await (await call('GET', path)).blob();
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement('a'), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
