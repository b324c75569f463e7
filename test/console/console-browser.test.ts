import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { v4 as uuidv4 } from 'uuid';
import { launchChromium, missingBrowser } from './browser';
import { serverFixture, ServerFixture } from '../server/server-fixture';

// Functions passed to page.evaluate run in the browser; this file compiles without the DOM library
// (it would hide browser names used by mistake in Node code), so it declares the few it uses.
declare const window: { seenAt?: Record<string, number>; pwned?: string };
declare const document: { querySelector(selector: string): unknown; body: { insertAdjacentHTML(where: string, html: string): void }; cookie: string };
declare const MutationObserver: new (callback: () => void) => { observe(target: object, options: object): void };
declare const sessionStorage: Record<string, string>;
declare const localStorage: Record<string, string>;

const missing = missingBrowser();
/** Without Chromium (and not in CI) the suites are skipped, their names saying why. */
const describeInBrowser = (name: string, suite: () => void) => (missing ? describe.skip(`${name} (skipped: ${missing})`, suite) : describe(name, suite));
if (missing) console.warn(`Skipping the console's browser tests: ${missing}`);

/** A page of its own session (sessionStorage), recording every request it makes. */
async function openConsole(browser: Browser, baseUrl: string, hash: string): Promise<{ page: Page; context: BrowserContext; requests: Request[]; dialogs: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const requests: Request[] = [];
  const dialogs: string[] = [];
  context.on('request', (request) => requests.push(request));
  const page = await context.newPage();
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(`${baseUrl}/console${hash}`);
  return { page, context, requests, dialogs };
}

async function post(f: ServerFixture, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await f.call('POST', path, body, headers);
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`);
  return res.json();
}

/** When the page first showed an element matching `selector`, by the page's clock (the same machine's). */
function watchFor(page: Page, selector: string): Promise<void> {
  return page.evaluate((sel) => {
    const seen = (window.seenAt ??= {});
    const check = () => {
      if (seen[sel] === undefined && document.querySelector(sel)) seen[sel] = Date.now();
    };
    new MutationObserver(check).observe(document.body, { childList: true, subtree: true });
    check();
  }, selector);
}

async function seenAt(page: Page, selector: string): Promise<number> {
  await page.waitForSelector(selector, { timeout: 15_000 });
  return page.evaluate((sel) => window.seenAt?.[sel] ?? Number.NaN, selector);
}

/** Reads until `check` passes (the page updates asynchronously), or throws check's last failure. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => void, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    try {
      check(value);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function origins(requests: Request[]): string[] {
  return [...new Set(requests.map((r) => new URL(r.url()).origin))];
}

describeInBrowser('the console in Chromium', () => {
  let browser: Browser;
  let f: ServerFixture;
  let transferEventId: string;
  beforeAll(async () => {
    [browser, f] = await Promise.all([launchChromium(), serverFixture()]);
    const transfer = await post(f, '/entity/Transfer', { entityId: 'tr-1', events: [{ eventType: 'TransferRequested', eventData: { amount: 25 } }] });
    transferEventId = transfer.eventIds[0];
    await post(f, '/entity/Account', { entityId: 'acc-1', events: [{ eventType: 'AccountOpened', eventData: { owner: 'Ann' } }] });
    await post(f, '/entity/Account', { entityId: 'acc-2', events: [{ eventType: 'AccountOpened', eventData: { owner: 'Bo' } }] });
    await post(f, '/entity/Account', { entityId: 'bcc-1', events: [{ eventType: 'AccountOpened', eventData: { owner: 'Cy' } }] });
    await post(f, '/entity/Account/acc-1', {
      entityVersion: 1,
      triggeringEventToken: transferEventId,
      events: [{ eventType: 'AccountDebited', eventData: { amount: 25 }, metadata: { causationId: transferEventId, correlationId: 'request-77' } }],
      snapshot: { snapshotType: 'AccountState', snapshotData: { balance: 75 } },
    });
    await post(f, '/entity/Account/acc-1', { entityVersion: 2, events: [{ eventType: 'AccountCredited', eventData: { amount: 5 } }] });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await f?.close();
  });

  it('goes from the types to the entities to an entity, whose timeline shows its events in order with the snapshot marked', async () => {
    const { page, context, requests } = await openConsole(browser, f.url, '');
    try {
      await page.waitForURL(/#\/types$/);
      const accountRow = page.locator('tbody tr', { hasText: 'Account' });
      await eventually(() => accountRow.locator('td').allTextContents(), (value) => expect(value).toEqual(['Account', '3', '5']));
      await accountRow.locator('a').click();

      await page.waitForURL(/#\/entities\/Account$/);
      await page.waitForSelector('tbody tr');
      expect(await page.locator('tbody tr td:first-child').allTextContents()).toEqual(['acc-1', 'acc-2', 'bcc-1']);
      await page.fill('input[name=prefix]', 'acc');
      await page.press('input[name=prefix]', 'Enter');
      await page.waitForURL(/#\/entities\/Account\?prefix=acc$/);
      await eventually(() => page.locator('tbody tr td:first-child').allTextContents(), (value) => expect(value).toEqual(['acc-1', 'acc-2']));
      expect(await page.locator('tbody tr').first().locator('td').nth(1).textContent()).toBe('3');
      await page.click('a:text-is("acc-1")');

      await page.waitForURL(/#\/entity\/Account\/acc-1$/);
      await page.waitForSelector('.timeline .event');
      const cards = page.locator('.timeline .event');
      expect(await cards.locator('.version').allTextContents()).toEqual(['v1', 'v2', 'v3']);
      expect(await cards.locator('.event-type').allTextContents()).toEqual(['AccountOpened', 'AccountDebited', 'AccountCredited']);
      // The snapshot stored with version 2 sits between versions 2 and 3.
      const items = await page.locator('.timeline > li').evaluateAll((lis) => lis.map((li) => (li.classList.contains('snapshot-mark') ? 'snapshot' : li.querySelector('.version')?.textContent)));
      expect(items).toEqual(['v1', 'v2', 'snapshot', 'v3']);
      await expect(cards.nth(1).locator('.data').textContent()).resolves.toContain('"amount": 25');

      // A triggering event token is an event id: it leads to that event, and on to its entity.
      const debited = cards.nth(1);
      expect(await debited.locator('.ids dd').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('request-77')]));
      expect(await debited.locator('.ids a').count()).toBe(2); // triggered by + causation; the correlation id is no event id
      await debited.locator('.ids a').first().click();
      await page.waitForURL(new RegExp(`#/event/${transferEventId}$`));
      await expect(page.locator('.event .event-type').textContent({ timeout: 10_000 })).resolves.toBe('TransferRequested');
      await page.goBack();

      await page.locator('.timeline .event').nth(1).locator('a:text-is("state at this version")').click();
      await page.waitForURL(/#\/entity\/Account\/acc-1\/state\/2$/);
      await page.waitForSelector('.snapshot');
      expect(await page.locator('.snapshot').textContent()).toContain('AccountState at v2');
      expect(await page.locator('.timeline .event').count()).toBe(0); // the snapshot is at v2: no events after it
      await page.click('a:text-is("Show every event instead")');
      await page.waitForURL(/state\/2\?snapshot=false$/);
      await eventually(() => page.locator('.timeline .event .version').allTextContents(), (value) => expect(value).toEqual(['v1', 'v2']));

      expect(origins(requests)).toEqual([f.url]);
    } finally {
      await context.close();
    }
  });

  it('shows a new append on the live feed within a second of the append’s answer, skips nothing across a pause, and filters by type', async () => {
    const { page, context, requests } = await openConsole(browser, f.url, '#/live');
    try {
      await page.waitForSelector('.live-status.on', { timeout: 30_000 });
      const eventId = uuidv4();
      const selector = `[data-event-id="${eventId}"]`;
      await watchFor(page, selector);
      await post(f, '/entity/Account', { entityId: 'live-1', events: [{ eventId, eventType: 'AccountOpened', eventData: { owner: 'Live' } }] });
      const answeredAt = Date.now();
      const delayMs = (await seenAt(page, selector)) - answeredAt;
      expect(delayMs).toBeLessThan(1000);
      expect(await page.locator(selector).textContent()).toContain('Account live-1');

      await page.click('button.pause');
      await eventually(() => page.locator('.live-status').textContent(), (value) => expect(value).toMatch(/^Paused/));
      const duringPause = await post(f, '/entity/Account/live-1', { entityVersion: 1, events: [{ eventType: 'AccountCredited', eventData: { amount: 1 } }] });
      await page.waitForTimeout(1500);
      expect(await page.locator(`[data-event-id="${duringPause.eventIds[0]}"]`).count()).toBe(0);
      await page.click('button.pause');
      await page.waitForSelector(`[data-event-id="${duringPause.eventIds[0]}"]`, { timeout: 10_000 });

      await page.check('.type-filter input[value=Transfer]');
      await page.waitForURL(/#\/live\?types=Transfer$/);
      await eventually(() => page.locator('.live-status').textContent(), (value) => expect(value).toBe('Live: Transfer'));
      const account = await post(f, '/entity/Account/live-1', { entityVersion: 2, events: [{ eventType: 'AccountCredited', eventData: { amount: 2 } }] });
      const transfer = await post(f, '/entity/Transfer', { entityId: 'tr-live', events: [{ eventType: 'TransferRequested', eventData: { amount: 2 } }] });
      await page.waitForSelector(`[data-event-id="${transfer.eventIds[0]}"]`, { timeout: 10_000 });
      // Committed before the transfer, so it would have arrived first had the filter let it through.
      expect(await page.locator(`[data-event-id="${account.eventIds[0]}"]`).count()).toBe(0);

      const apiCalls = requests.filter((r) => !new URL(r.url()).pathname.startsWith('/console'));
      expect(apiCalls.some((r) => new URL(r.url()).pathname === '/events/stream')).toBe(true);
      expect(origins(requests)).toEqual([f.url]);
    } finally {
      await context.close();
    }
  });

  it('finds the saga types by their first event, lists a saga’s instances, and shows one as a timeline of steps, replies and compensations', async () => {
    const hostile = '<img src=x onerror="window.pwned = \'saga\'">';
    const command = (step: string, commandId: string, participantType: string, participantId: string, commandType: string) => ({ step, commandId, participantType, participantId, commandType, command: { note: hostile } });
    const room = await post(f, '/entity/Hotel', { entityId: 'h-1', events: [{ eventType: 'RoomBooked', eventData: {} }] });
    await post(f, '/entity/TripSaga', {
      entityId: 'trip-1',
      events: [
        { eventType: 'SagaStarted', eventData: { data: { traveller: 'Ann' } } },
        { eventType: 'SagaStepRequested', eventData: command('bookHotel', 'c-1', 'Hotel', 'h-1', 'BookRoom') },
        { eventType: 'SagaStepSucceeded', eventData: { step: 'bookHotel', commandId: 'c-1', replyEventId: room.eventIds[0], replyEventType: 'RoomBooked', data: {} } },
        { eventType: 'SagaStepRequested', eventData: command('rentCar', 'c-2', 'CarRental', 'k-1', 'RentCar') },
        { eventType: 'SagaStepFailed', eventData: { step: 'rentCar', commandId: 'c-2', reason: 'CarRental refused RentCar: no car left', data: {} } },
        { eventType: 'SagaCompensationRequested', eventData: { ...command('bookHotel', 'c-3', 'Hotel', 'h-1', 'CancelRoom'), compensates: 'c-1', attempt: 1 } },
        { eventType: 'SagaCompensationDone', eventData: { step: 'bookHotel', commandId: 'c-3', replyEventId: room.eventIds[0], replyEventType: 'RoomCancelled' } },
        { eventType: 'SagaRolledBack', eventData: { data: {}, failedStep: 'rentCar', reason: 'CarRental refused RentCar: no car left' } },
      ],
    });
    const { page, context, requests, dialogs } = await openConsole(browser, f.url, '#/sagas');
    try {
      // Of Account, Transfer, Hotel, TripSaga (and whatever the other tests wrote), only the type whose streams start with SagaStarted.
      await page.waitForSelector('tbody tr');
      expect(await page.locator('tbody tr td').allTextContents()).toEqual(['TripSaga', '1', '8']);
      await page.click('a:text-is("TripSaga")');
      await page.waitForURL(/#\/sagas\/TripSaga$/);
      await page.click('a:text-is("trip-1")');
      await page.waitForURL(/#\/saga\/TripSaga\/trip-1$/);
      await page.waitForSelector('.saga-timeline tbody tr');
      const rows = page.locator('.saga-timeline tbody tr');
      const column = (name: string) => rows.locator(`td.${name}`).allTextContents();
      expect(await column('step')).toEqual(['', 'bookHotel', 'bookHotel', 'rentCar', 'rentCar', 'bookHotel', 'bookHotel', 'rentCar']);
      expect(await column('what')).toEqual(['started', 'action sent', 'succeeded', 'action sent', 'failed', 'compensation sent', 'compensated', 'rolled back']);
      expect(await column('participant')).toEqual(['', '→ Hotel h-1', '← Hotel h-1', '→ CarRental k-1', '← CarRental k-1', '→ Hotel h-1', '← Hotel h-1', '']);
      expect(await page.locator('.saga-outcome').textContent()).toBe('rolled back');
      expect(await rows.nth(1).locator('td.detail').textContent()).toBe(`BookRoom ${JSON.stringify({ note: hostile })}`);
      expect(await page.locator('#view img').count()).toBe(0);

      // The reply leads to the participant's event; a participant to its entity.
      await rows.nth(2).locator('a:text-is("reply")').click();
      await page.waitForURL(new RegExp(`#/event/${room.eventIds[0]}$`));
      await page.goBack();
      await page.locator('.saga-timeline tbody tr').nth(1).locator('td.participant a').click();
      await page.waitForURL(/#\/entity\/Hotel\/h-1$/);

      // The saga's raw history links back to its timeline; another entity is refused by name.
      await page.goto(`${f.url}/console#/entity/TripSaga/trip-1`);
      await page.click('a:text-is("saga timeline")');
      await page.waitForURL(/#\/saga\/TripSaga\/trip-1$/);
      await page.goto(`${f.url}/console#/saga/Hotel/h-1`);
      await expect(page.locator('.notice.error').textContent({ timeout: 10_000 })).resolves.toContain('Hotel h-1 is not a saga instance: its history starts with RoomBooked, not SagaStarted');
      expect(await page.evaluate(() => window.pwned)).toBeUndefined();
      expect(dialogs).toEqual([]);
      expect(origins(requests)).toEqual([f.url]);
    } finally {
      await context.close();
    }
  });

  it('renders event data as text: <script> and <img onerror> in it do nothing, and the CSP refuses inline script anyway', async () => {
    const attack = {
      script: '<script>window.pwned = "script"; alert(1)</script>',
      img: '<img src=x onerror="window.pwned = \'img\'; alert(2)">',
      '<b onmouseover=alert(3)>key</b>': '</details></div><svg onload=alert(4)>',
    };
    await post(f, '/entity/Hostile', { entityId: 'h-1', events: [{ eventType: 'Injected', eventData: attack, metadata: { note: attack.img, causationId: attack.script } }] });
    const { page, context, requests, dialogs } = await openConsole(browser, f.url, '#/entity/Hostile/h-1');
    const cspViolations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    try {
      await page.waitForSelector('.timeline .event');
      await page.click('.event .metadata summary');
      const text = (await page.locator('.timeline').textContent()) ?? '';
      expect(text).toContain(JSON.stringify(attack.script));
      expect(text).toContain(JSON.stringify(attack.img));
      expect(text).toContain('"<b onmouseover=alert(3)>key</b>"');
      expect(await page.locator('#view script, #view img, #view svg, #view b').count()).toBe(0);

      // The same data on the live feed and on the event's own page.
      await page.goto(`${f.url}/console#/live?types=Hostile`);
      await page.waitForSelector('.live-status.on', { timeout: 30_000 });
      const again = await post(f, '/entity/Hostile/h-1', { entityVersion: 1, events: [{ eventType: 'Injected', eventData: attack }] });
      await page.waitForSelector(`[data-event-id="${again.eventIds[0]}"]`, { timeout: 10_000 });
      await page.click(`[data-event-id="${again.eventIds[0]}"] summary`);
      await page.goto(`${f.url}/console#/event/${again.eventIds[0]}`);
      await page.waitForSelector('.event');
      await page.waitForTimeout(500);
      expect(await page.evaluate(() => window.pwned)).toBeUndefined();
      expect(dialogs).toEqual([]);

      // Second wall: even markup that did reach the page could run nothing inline.
      await page.evaluate(() => {
        document.body.insertAdjacentHTML('beforeend', '<img src="console/assets/icon.svg" onload="window.pwned = \'inline\'">');
      });
      await page.waitForTimeout(500);
      expect(await page.evaluate(() => window.pwned)).toBeUndefined();
      expect(cspViolations.length).toBeGreaterThan(0);
      expect(dialogs).toEqual([]);
      expect(origins(requests)).toEqual([f.url]);
    } finally {
      await context.close();
    }
  });
});

describeInBrowser('the console with API keys, in Chromium', () => {
  const KEY = 'console-secret-4f1c';
  let browser: Browser;
  let f: ServerFixture;
  beforeAll(async () => {
    [browser, f] = await Promise.all([launchChromium(), serverFixture({ apiKeys: [KEY] })]);
    await post(f, '/entity/Vault', { entityId: 'v-1', events: [{ eventType: 'VaultOpened', eventData: {} }] }, { authorization: `Bearer ${KEY}` });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await f?.close();
  });

  it('asks for the key, refuses a wrong one, keeps the right one for the session only, and never puts it in a URL', async () => {
    const { page, context, requests } = await openConsole(browser, f.url, '#/types');
    try {
      await page.waitForSelector('form.key-form');
      await page.fill('form.key-form input', 'wrong-key');
      await page.click('form.key-form button');
      await expect(page.locator('form.key-form .notice.error').textContent({ timeout: 10_000 })).resolves.toContain('refused');

      await page.fill('form.key-form input', KEY);
      await page.click('form.key-form button');
      await page.waitForSelector('tbody tr');
      expect(await page.locator('tbody tr td').allTextContents()).toEqual(['Vault', '1', '1']);
      expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([KEY]);
      expect(await page.evaluate(() => Object.keys(localStorage).length + document.cookie.length)).toBe(0);

      // The live feed streams with the key in a header too.
      await page.click('nav a[data-nav=live]');
      await page.waitForSelector('.live-status.on', { timeout: 30_000 });
      const appended = await post(f, '/entity/Vault/v-1', { entityVersion: 1, events: [{ eventType: 'VaultLocked', eventData: {} }] }, { authorization: `Bearer ${KEY}` });
      await page.waitForSelector(`[data-event-id="${appended.eventIds[0]}"]`, { timeout: 10_000 });

      const api = requests.filter((r) => !new URL(r.url()).pathname.startsWith('/console') && !r.url().endsWith('/favicon.ico'));
      expect(api.map((r) => new URL(r.url()).pathname)).toEqual(expect.arrayContaining(['/types', '/events/end', '/events/stream']));
      for (const request of requests) expect(decodeURIComponent(request.url())).not.toContain(KEY);
      const authorized = api.filter((r) => r.headers().authorization === `Bearer ${KEY}`);
      expect(authorized.length).toBeGreaterThanOrEqual(3);
      expect(origins(requests)).toEqual([f.url]);
    } finally {
      await context.close();
    }

    // Another session (a new tab's sessionStorage) is asked again.
    const other = await openConsole(browser, f.url, '#/types');
    try {
      await other.page.waitForSelector('form.key-form');
    } finally {
      await other.context.close();
    }
  });
});
