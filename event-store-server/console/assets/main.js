// @ts-check
/**
 * The console's router: the part of the URL after `#` names the view, so every view has a
 * permalink. A view renders into a fresh element and may return a function that stops it
 * (the live feed's stream) when the user goes elsewhere.
 */
import { apiKey, ApiError, Unauthorized } from './api.js';
import { h, notice } from './dom.js';
import { entitiesView } from './views/entities.js';
import { entityView } from './views/entity.js';
import { eventView } from './views/event.js';
import { liveView } from './views/live.js';
import { sagaView } from './views/saga.js';
import { sagaInstancesView } from './views/saga-instances.js';
import { sagasView } from './views/sagas.js';
import { stateView } from './views/state.js';
import { typesView } from './views/types.js';

/**
 * @typedef {{ path: string[], query: URLSearchParams, rerender: () => void }} Route
 * @typedef {(root: HTMLElement, route: Route) => Promise<(() => void) | void>} View
 */

/** @type {Array<[RegExp, string, View]>} pattern over the path, the nav entry it belongs to, the view */
const VIEWS = [
  [/^types$/, 'types', typesView],
  [/^entities\/[^/]+$/, 'types', entitiesView],
  [/^entity\/[^/]+\/[^/]+$/, 'types', entityView],
  [/^entity\/[^/]+\/[^/]+\/state\/[^/]+$/, 'types', stateView],
  [/^event\/[^/]+$/, 'types', eventView],
  [/^live$/, 'live', liveView],
  [/^sagas$/, 'sagas', sagasView],
  [/^sagas\/[^/]+$/, 'sagas', sagaInstancesView],
  [/^saga\/[^/]+\/[^/]+$/, 'sagas', sagaView],
];

const main = /** @type {HTMLElement} */ (document.getElementById('view'));
let stopCurrent = () => {};
let generation = 0;

async function render() {
  stopCurrent();
  stopCurrent = () => {};
  const mine = ++generation;
  const [rawPath, rawQuery = ''] = location.hash.replace(/^#\/?/, '').split('?');
  if (rawPath === '') return location.replace('#/types');
  const match = VIEWS.find(([pattern]) => pattern.test(rawPath));
  document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('current', a.getAttribute('data-nav') === match?.[1]));
  showKeyStatus();

  // A view that finishes after the user moved on writes into an element no longer on the page.
  const root = h('section', { class: 'view' });
  main.replaceChildren(root);
  if (!match) {
    root.append(notice('error', 'No view at this address. ', h('a', { href: '#/types' }, 'See the entity types')));
    return;
  }
  let path;
  try {
    path = rawPath.split('/').map(decodeURIComponent);
  } catch {
    root.append(notice('error', 'This address is not well formed.'));
    return;
  }
  try {
    const stop = await match[2](root, { path, query: new URLSearchParams(rawQuery), rerender: render });
    if (stop) {
      if (mine === generation) stopCurrent = stop;
      else stop();
    }
  } catch (err) {
    if (mine !== generation) return;
    root.replaceChildren(failure(err));
  }
}

/** @param {unknown} err */
function failure(err) {
  if (err instanceof Unauthorized) return keyForm();
  if (err instanceof ApiError) return notice('error', `The server answered ${err.status}: ${err.message}`);
  return notice('error', `Something failed: ${err instanceof Error ? err.message : String(err)}`);
}

/** The API answered 401: ask for a key, keep it for this tab only, and try the view again. */
function keyForm() {
  const refused = apiKey.get() !== null;
  apiKey.forget();
  const input = /** @type {HTMLInputElement} */ (h('input', { type: 'password', name: 'api-key', autocomplete: 'off', required: '', 'aria-label': 'API key' }));
  const form = h(
    'form',
    { class: 'key-form' },
    h('h1', {}, 'API key'),
    refused ? notice('error', 'The server refused that key.') : null,
    h('p', {}, 'This server asks for an API key (one of EVENTUATE_API_KEYS). It is kept in this tab only, until the tab closes.'),
    h('label', {}, 'Key ', input),
    h('button', { type: 'submit' }, 'Use this key'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    apiKey.set(input.value.trim());
    void render();
  });
  queueMicrotask(() => input.focus());
  return form;
}

function showKeyStatus() {
  const status = /** @type {HTMLElement} */ (document.getElementById('key-status'));
  if (apiKey.get() === null) return status.replaceChildren();
  const forget = h('button', { type: 'button', class: 'link' }, 'forget');
  forget.addEventListener('click', () => {
    apiKey.forget();
    void render();
  });
  status.replaceChildren('key set · ', forget);
}

addEventListener('hashchange', () => void render());
void render();
