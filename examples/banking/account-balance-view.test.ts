import { randomUUID } from 'node:crypto';
import { testDatabase, type TestDatabase } from '../../test/support/database';
import { AccountBalanceView, ProjectionGapError, type AccountChange } from './account-balance-view';

describe('AccountBalanceView', () => {
  let db: TestDatabase;
  let view: AccountBalanceView;
  beforeAll(async () => {
    db = testDatabase('bankview');
    view = new AccountBalanceView(db.pool, db.schema);
    await view.createTables();
  });
  afterAll(() => db.drop());

  const change = (version: number, rest: Partial<AccountChange>): AccountChange => ({ accountId: 'acc-1', version, eventId: randomUUID(), ...rest });

  it('applies each version once, in order, and keeps the transfers that moved the balance', async () => {
    const opened = change(1, { opened: { owner: 'Ann', balance: 100_00 } });
    const debited = change(2, { transfer: { transferId: 't-1', amount: -30_00 } });
    const refused = change(3, {}); // a refused debit: the version moves, the balance does not
    const credited = change(4, { transfer: { transferId: 't-2', amount: 5_00 } });
    expect(await view.apply(opened)).toBe(true);
    expect(await view.apply(debited)).toBe(true);
    expect(await view.apply(opened)).toBe(false);
    expect(await view.apply(debited)).toBe(false);
    expect(await view.apply(refused)).toBe(true);
    expect(await view.apply(credited)).toBe(true);
    expect(await view.apply(debited)).toBe(false);

    expect(await view.accounts()).toEqual([{ accountId: 'acc-1', owner: 'Ann', balance: 75_00, version: 4 }]);
    expect(await view.transfersOf('acc-1')).toEqual([
      { accountId: 'acc-1', transferId: 't-1', amount: -30_00, version: 2 },
      { accountId: 'acc-1', transferId: 't-2', amount: 5_00, version: 4 },
    ]);
  });

  it('refuses an event that skips a version, changing nothing', async () => {
    await expect(view.apply(change(6, { transfer: { transferId: 't-9', amount: 1 } }))).rejects.toBeInstanceOf(ProjectionGapError);
    await expect(view.apply({ ...change(2, {}), accountId: 'never-opened' })).rejects.toBeInstanceOf(ProjectionGapError);
    expect((await view.accounts())[0]).toMatchObject({ balance: 75_00, version: 4 });
    expect(await view.transfersOf('acc-1')).toHaveLength(2);
  });
});
