/**
 * `npm run screenshots`: the console's main views as PNG images for the README (docs/console/).
 * Runs the server on an in-memory store with a small banking story, so it needs no database;
 * it needs Debian's chromium (see browser.ts).
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { buildApp } from '../../event-store-server/app';
import { InMemoryEventStore } from '../../src';
import { launchChromium, missingBrowser } from './browser';

const OUT = resolve(__dirname, '../../docs/console');
const WIDE = { width: 1280, height: 760 };
const PHONE = { width: 390, height: 760 };

async function writeStory(store: InMemoryEventStore): Promise<void> {
  const owners = ['Ann', 'Bo', 'Cy', 'Dee', 'Eli', 'Fay'];
  for (const [i, owner] of owners.entries()) {
    await store.create({ entityType: 'Account', entityId: `acc-${i + 1}`, events: [{ eventType: 'AccountOpened', eventData: { owner, initialBalance: 10_000 * (i + 1) } }] });
  }
  const transfer = await store.create({
    entityType: 'MoneyTransfer',
    entityId: 'tr-17',
    events: [{ eventType: 'TransferRequested', eventData: { from: 'acc-1', to: 'acc-2', amount: 2500, memo: 'rent, March' } }],
  });
  const [requested] = transfer.eventIds;
  const caused = { correlationId: requested, causationId: requested };
  await store.append({
    entityType: 'Account',
    entityId: 'acc-1',
    expectedVersion: 1,
    triggeringEventToken: requested,
    events: [{ eventType: 'AccountDebited', eventData: { amount: 2500, transferId: 'tr-17' }, metadata: { ...caused, schemaVersion: 1 } }],
  });
  await store.append({
    entityType: 'Account',
    entityId: 'acc-1',
    expectedVersion: 2,
    events: [{ eventType: 'OwnerAddressChanged', eventData: { address: { street: '12 Quay Street', city: 'Galway', country: 'IE' } }, metadata: { requestId: 'req-5f2c' } }],
    snapshot: { snapshotType: 'AccountState', snapshotData: { owner: 'Ann', balance: 7500, address: { city: 'Galway' } } },
  });
  await store.append({ entityType: 'Account', entityId: 'acc-1', expectedVersion: 3, events: [{ eventType: 'AccountCredited', eventData: { amount: 120, transferId: 'tr-18' } }] });
  await store.append({
    entityType: 'MoneyTransfer',
    entityId: 'tr-17',
    expectedVersion: 1,
    events: [{ eventType: 'TransferCompleted', eventData: { debited: 'acc-1', credited: 'acc-2' }, metadata: caused }],
  });
}

/** Opens a view, waits for `waitFor` and shows it in the middle of the screen (or the whole page). */
async function shoot(page: Page, hash: string, file: string, waitFor: string, fullPage = false): Promise<void> {
  await page.goto(`${baseUrl}/console${hash}`);
  await page.waitForSelector(waitFor);
  if (!fullPage) await page.$eval(waitFor, (element) => element.scrollIntoView({ block: 'center' }));
  await page.screenshot({ path: resolve(OUT, file), fullPage });
  console.log(`docs/console/${file}`);
}

let baseUrl = '';

async function main(): Promise<void> {
  const missing = missingBrowser();
  if (missing) throw new Error(missing);
  mkdirSync(OUT, { recursive: true });
  const store = new InMemoryEventStore();
  await writeStory(store);
  const app = buildApp({ store, defaultMetrics: false });
  baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  const browser = await launchChromium();
  try {
    const wide = await browser.newPage({ viewport: WIDE });
    await shoot(wide, '#/types', 'types.png', 'table');
    await shoot(wide, '#/entities/Account', 'entities.png', 'table');
    await shoot(wide, '#/entity/Account/acc-1', 'entity.png', '.snapshot-mark', true);
    await wide.goto(`${baseUrl}/console#/live`);
    await wide.waitForSelector('.live-status.on');
    for (const [i, amount] of [300, 45, 1200].entries()) {
      await store.append({ entityType: 'Account', entityId: 'acc-2', expectedVersion: i + 1, events: [{ eventType: 'AccountCredited', eventData: { amount, transferId: `tr-${20 + i}` } }] });
    }
    await wide.waitForSelector('.feed-row:nth-child(3)');
    await wide.screenshot({ path: resolve(OUT, 'live.png') });
    console.log('docs/console/live.png');

    const phone = await browser.newPage({ viewport: PHONE, deviceScaleFactor: 1, isMobile: true });
    await shoot(phone, '#/entity/Account/acc-1', 'entity-phone.png', '.snapshot-mark');
  } finally {
    await browser.close();
    await app.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
