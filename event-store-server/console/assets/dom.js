// @ts-check
/**
 * Building the page. Every string becomes a text node: event data is written by anyone who can
 * append, so nothing here ever parses a string as markup, and no element gets an inline handler.
 */

/** @typedef {Node | string | number | null | undefined | false} Child */

/**
 * An element with attributes and children; `false`, `null` and `undefined` children are left out.
 * @param {string} tag
 * @param {Record<string, string | undefined>} [attributes]
 * @param {...Child} children
 * @returns {HTMLElement}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    // Handlers are attached with addEventListener; an on* attribute would be inline script.
    if (/^on/i.test(name)) throw new Error(`h(): no inline handlers (${name})`);
    if (value !== undefined) element.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'number' ? String(child) : child);
  }
  return element;
}

/**
 * A link to a view of the console. Hrefs are built here from the route and encoded parts, never
 * taken from data, so no `javascript:` URL can appear.
 * @param {string[]} path segments after `#/`, each encoded
 * @param {Record<string, string | number | undefined>} [query]
 */
export function viewHref(path, query = {}) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') search.set(name, String(value));
  const qs = search.toString();
  return `#/${path.map(encodeURIComponent).join('/')}${qs ? `?${qs}` : ''}`;
}

/**
 * @param {string[]} path
 * @param {Child} text
 * @param {Record<string, string | number | undefined>} [query]
 */
export function viewLink(path, text, query) {
  return h('a', { href: viewHref(path, query) }, text);
}

/**
 * A value in monospace with a button that copies it.
 * @param {string} value
 */
export function copyable(value) {
  const code = h('code', {}, value);
  const button = h('button', { type: 'button', class: 'copy', title: 'Copy', 'aria-label': `Copy ${value}` }, 'copy');
  button.addEventListener('click', async () => {
    const copied = await copyText(value, code);
    button.textContent = copied ? 'copied' : 'select + ctrl-c';
    setTimeout(() => (button.textContent = 'copy'), 1500);
  });
  return h('span', { class: 'copyable' }, code, button);
}

/**
 * The clipboard API exists only in secure contexts (https, localhost); elsewhere the text is
 * selected so that the user's own copy takes it.
 * @param {string} value
 * @param {Node} shown
 */
async function copyText(value, shown) {
  try {
    if (navigator.clipboard) {
      await navigator.clipboard.writeText(value);
      return true;
    }
  } catch {
    // refused (no permission): fall through to selecting it
  }
  getSelection()?.selectAllChildren(shown);
  return false;
}

/** @param {string} iso */
export function time(iso) {
  const date = new Date(iso);
  const shown = Number.isNaN(date.getTime()) ? iso : date.toISOString().replace('T', ' ').replace('Z', ' UTC');
  return h('time', { datetime: iso, title: Number.isNaN(date.getTime()) ? undefined : date.toString() }, shown);
}

/**
 * JSON as a tree of <details> elements: objects and arrays fold, leaves are typed text.
 * @param {unknown} value
 * @param {number} [openDepth] levels shown unfolded
 * @returns {HTMLElement}
 */
export function jsonTree(value, openDepth = 2) {
  // The outermost object needs no fold of its own: it sits in a <details> of the page already.
  const node = jsonNode(value, openDepth);
  const list = node instanceof HTMLDetailsElement ? node.querySelector(':scope > ul') : null;
  return h('div', { class: 'json' }, list ?? node);
}

/**
 * @param {unknown} value
 * @param {number} openDepth
 * @returns {HTMLElement}
 */
function jsonNode(value, openDepth) {
  if (value === null || typeof value !== 'object') {
    const kind = value === null ? 'null' : typeof value;
    return h('span', { class: `json-${kind}` }, JSON.stringify(value) ?? String(value));
  }
  const isArray = Array.isArray(value);
  const entries = isArray ? value.map((item, i) => /** @type {[string, unknown]} */ ([String(i), item])) : Object.entries(value);
  const [open, close] = isArray ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) return h('span', { class: 'json-empty' }, open + close);
  const summary = h('summary', {}, `${open} ${entries.length} ${isArray ? (entries.length === 1 ? 'item' : 'items') : entries.length === 1 ? 'key' : 'keys'} ${close}`);
  const list = h(
    'ul',
    {},
    ...entries.map(([key, item]) => h('li', {}, isArray ? null : h('span', { class: 'json-key' }, JSON.stringify(key)), isArray ? null : ': ', jsonNode(item, openDepth - 1))),
  );
  const details = h('details', {}, summary, list);
  if (openDepth > 0) details.setAttribute('open', '');
  return details;
}

/**
 * A message box; `kind` is info or error.
 * @param {'info' | 'error'} kind
 * @param {...Child} children
 */
export function notice(kind, ...children) {
  return h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...children);
}
