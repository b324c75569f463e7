// #region projection
import type { PoolClient } from 'pg';
import { EventHandlerMethod, Projection, type ProjectionContext } from 'eventuate-local-ts/client';
// #endregion
import { AccountCredited, AccountDebited, AccountOpened } from './account';

/**
 * Each account's balance and the transfers that moved it, in PostgreSQL. Events arrive at least
 * once; the projection runtime runs each handler in a transaction that also records the account's
 * version, and passes over an event it already applied, so these handlers are plain SQL.
 * AccountDebitFailedDueToInsufficientFunds has no handler: a refused debit moves no money (the
 * runtime still records the account's version, so the view stays gap-free).
 */
// #region projection
@Projection('account_balances')
export class AccountBalanceProjection {
  /** Unqualified names: the runtime creates them in the projection's schema. */
  async createTables(db: PoolClient) {
    await db.query(`
      CREATE TABLE account_balances (
        account_id text PRIMARY KEY,
        owner text NOT NULL,
        balance bigint NOT NULL
      );
      CREATE TABLE account_transfers (
        -- The order applied, which for one account is the order of its events.
        line bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id text NOT NULL,
        transfer_id text NOT NULL,
        -- Negative for a debit.
        amount bigint NOT NULL
      );
      CREATE INDEX account_transfers_by_account ON account_transfers (account_id, line)`);
  }

  @EventHandlerMethod(AccountOpened)
  async opened({ db, entityId, event }: ProjectionContext<AccountOpened>) {
    await db.query(`INSERT INTO account_balances (account_id, owner, balance) VALUES ($1, $2, $3)`, [entityId, event.owner, event.initialBalance]);
  }

  @EventHandlerMethod(AccountDebited)
  async debited({ db, entityId, event }: ProjectionContext<AccountDebited>) {
    await move(db, entityId, event.transferId, -event.amount);
  }

  @EventHandlerMethod(AccountCredited)
  async credited({ db, entityId, event }: ProjectionContext<AccountCredited>) {
    await move(db, entityId, event.transferId, event.amount);
  }
}

async function move(db: PoolClient, accountId: string, transferId: string, amount: number): Promise<void> {
  await db.query(`UPDATE account_balances SET balance = balance + $2 WHERE account_id = $1`, [accountId, amount]);
  await db.query(`INSERT INTO account_transfers (account_id, transfer_id, amount) VALUES ($1, $2, $3)`, [accountId, transferId, amount]);
}
// #endregion
