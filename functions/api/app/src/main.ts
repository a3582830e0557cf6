/**
 * The marketer dashboard: a hash-routed single page over the Cairn API. Locally it signs in with the
 * API token, on AWS on Cognito's hosted page (signin.ts); the token is kept in this tab's session
 * storage. Numbers refresh every 5 s while a page is open.
 */
import { ApiError, signIn, signOut, token } from './api.js';
import { h } from './dom.js';
import { journeyPage, journeysPage, profilesPage, segmentsPage } from './pages.js';
import {
  finishHostedSignIn,
  hostedSignOut,
  loadSignInConfig,
  type SignInConfig,
  startHostedSignIn,
} from './signin.js';

const refreshMs = 5000;
const main = document.getElementById('main')!;
const status = document.getElementById('status')!;
const signOutButton = document.getElementById('signout') as HTMLButtonElement;

let timer: ReturnType<typeof setTimeout> | undefined;
let generation = 0;

export interface PageContext {
  /** Re-render this page now (after an action). */
  refresh(): void;
}

type Page = (params: string[], context: PageContext) => Promise<HTMLElement>;

const routes: [RegExp, Page, string][] = [
  [/^#\/journeys\/([^/]+)$/, journeyPage, '#/'],
  [/^#\/profiles$/, profilesPage, '#/profiles'],
  [/^#\/segments$/, segmentsPage, '#/segments'],
  [/^#?\/?$/, journeysPage, '#/'],
];

let config: SignInConfig = { kind: 'token' };

function signInPage(message?: string): HTMLElement {
  if (config.kind === 'cognito') {
    const hosted = config;
    return h(
      'div',
      { class: 'card signin' },
      h('h1', {}, 'Sign in to Cairn'),
      message ? h('p', { class: 'error', role: 'alert' }, message) : null,
      h(
        'button',
        {
          class: 'primary',
          type: 'button',
          id: 'hosted-signin',
          onclick: () => void startHostedSignIn(hosted),
        },
        'Sign in',
      ),
      h('p', { class: 'muted' }, 'With the account your administrator created for you.'),
    );
  }
  const input = h('input', {
    id: 'token',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const form = h(
    'form',
    {
      class: 'card signin',
      onsubmit: (event) => {
        event.preventDefault();
        signIn((input as HTMLInputElement).value.trim());
        void render();
      },
    },
    h('h1', {}, 'Sign in to Cairn'),
    h('label', { for: 'token' }, 'API token'),
    input,
    message ? h('p', { class: 'error', role: 'alert' }, message) : null,
    h('button', { class: 'primary', type: 'submit' }, 'Sign in'),
    h('p', { class: 'muted' }, 'Locally the token is CAIRN_API_TOKEN (default dev-token).'),
  );
  return form;
}

async function render(): Promise<void> {
  const mine = ++generation;
  clearTimeout(timer);
  signOutButton.hidden = !token();
  if (!token()) {
    main.replaceChildren(signInPage());
    return;
  }
  const hash = location.hash || '#/';
  const [pattern, page, nav] = routes.find(([pattern]) => pattern.test(hash)) ?? routes.at(-1)!;
  const params = (pattern.exec(hash) ?? []).slice(1).map(decodeURIComponent);
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.getAttribute('href') === nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  try {
    const content = await page(params, { refresh: () => void render() });
    if (mine !== generation) return;
    main.replaceChildren(content);
    status.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    if (mine !== generation) return;
    if (error instanceof ApiError && error.status === 401) {
      signOut();
      main.replaceChildren(
        signInPage(config.kind === 'token' ? 'That token was not accepted.' : 'Your session has ended.'),
      );
      signOutButton.hidden = true;
      return;
    }
    main.replaceChildren(h('p', { class: 'error', role: 'alert' }, (error as Error).message));
  }
  // Live numbers: the same page again, while it stays open and visible.
  timer = setTimeout(() => {
    if (document.visibilityState === 'visible' && !main.contains(document.activeElement as Node | null))
      void render();
    else timer = setTimeout(() => void render(), refreshMs);
  }, refreshMs);
}

signOutButton.addEventListener('click', () => {
  signOut();
  if (config.kind === 'cognito') hostedSignOut(config);
  else void render();
});
window.addEventListener('hashchange', () => void render());

async function start(): Promise<void> {
  config = await loadSignInConfig();
  if (config.kind === 'cognito') {
    try {
      await finishHostedSignIn(config);
    } catch (error) {
      main.replaceChildren(signInPage((error as Error).message));
      return;
    }
  }
  await render();
}
void start();
