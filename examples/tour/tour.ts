/**
 * The README's five-minute tour, as code that compiles and runs (examples/tour/tour.test.ts).
 * The `#region` parts are what the README shows.
 */
// #region repository
import { AggregateRepository, HttpEventStore } from 'eventuate-local-ts/client';
// #endregion
import { Account, DebitAccount, OpenAccount } from '../banking/account';

export interface TourResult {
  balanceNow: number;
  balanceAtVersion1: number;
  entityVersion: number;
}

export async function repositoryTour(url: string, log: (line: string) => void = console.log): Promise<TourResult> {
  // #region repository
  const store = new HttpEventStore({ url }); // e.g. http://localhost:8080, where `npm start` listens
  const accounts = new AggregateRepository(Account, store);

  const { entityId } = await accounts.save(new OpenAccount('Ann', 100_00));
  await accounts.update(entityId, new DebitAccount(30_00, 'transfer-1'));

  const now = await accounts.find(entityId);
  const before = await accounts.find(entityId, { toVersion: 1 });
  log(`${now.entity.owner} has ${now.entity.balance} cents at version ${now.entityVersion}, had ${before.entity.balance} at version 1`);
  // → Ann has 7000 cents at version 2, had 10000 at version 1
  // #endregion
  return { balanceNow: now.entity.balance, balanceAtVersion1: before.entity.balance, entityVersion: now.entityVersion };
}
