/**
 * npm run example:banking — a few accounts and transfers against a running server (EVENTUATE_URL,
 * default http://localhost:8080), the saga and the balance projection running here.
 */
import pino from 'pino';
import { HttpEventStore, postgresDeadLetters } from 'eventuate-local-ts/client';
import { exampleSource } from '../support/example-source';
import { eventStoreUrl, runExample } from '../support/run-example';
import { openViewDatabase } from '../support/view-database';
import { bankingSubscriptions } from './banking-subscriptions';
import { accountsTable, Bank, transfersTable } from './banking-scenario';

runExample(async () => {
  const url = eventStoreUrl();
  const server = { url, apiKey: process.env.EVENTUATE_API_KEY };
  const bank = new Bank(new HttpEventStore(server));
  const database = await openViewDatabase();
  const source = await exampleSource(server, ['Account', 'MoneyTransfer']);
  const deadLetters = postgresDeadLetters({ connectionString: database.connectionString });
  const logger = pino({ level: process.env.LOG_LEVEL || 'warn' });
  const { manager, balances, view } = bankingSubscriptions({ source, bank, viewPool: database.pool, deadLetters, logger });
  try {
    await manager.start();
    console.log(`event store: ${url}\nevents from: ${source.description}\nbalances in: ${database.description}\n`);

    const [ann, bob, cem] = await Promise.all([bank.open('Ann', 100_00), bank.open('Bob', 50_00), bank.open('Cem', 20_00)]);
    // Started all at once; the amounts make each outcome the same in any order.
    const plan = [
      { from: ann, to: bob, amount: 30_00 },
      { from: bob, to: cem, amount: 45_50 },
      { from: cem, to: ann, amount: 12_25 },
      { from: cem, to: bob, amount: 500_00 },
      { from: ann, to: cem, amount: 60_00 },
    ];
    const started = await Promise.all(plan.map(async (t) => ({ ...t, transferId: await bank.transfer(t.from, t.to, t.amount) })));
    const outcomes = await bank.outcomes(started, 30_000);
    await bank.balancesShown(balances, [ann, bob, cem], 30_000);

    console.log(`${transfersTable(outcomes)}\n\n${await accountsTable(view, [ann, bob, cem])}`);
  } finally {
    await manager.stop();
    await deadLetters.close?.();
    await database.close();
  }
});
