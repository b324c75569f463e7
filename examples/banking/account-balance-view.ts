import type { Pool, PoolClient } from 'pg';
import type { Cents } from './account';

export interface AccountBalanceRow {
  accountId: string;
  owner: string;
  balance: Cents;
  /** The version of the last Account event applied. */
  version: number;
}

export interface AccountTransferRow {
  accountId: string;
  transferId: string;
  /** Negative for a debit. */
  amount: Cents;
  version: number;
}

/** What changes an account's row: one Account event, identified by its entity version. */
export interface AccountChange {
  accountId: string;
  version: number;
  eventId: string;
  /** Present on AccountOpened. */
  opened?: { owner: string; balance: Cents };
  /** Present on a debit (negative) or credit; absent for events that leave the balance alone. */
  transfer?: { transferId: string; amount: Cents };
}

export class ProjectionGapError extends Error {}

/**
 * The read model of the banking example: each account's balance and the transfers that moved it,
 * in PostgreSQL. Events arrive at least once but, per account, in version order; so an event at or
 * below the row's version is a redelivery and is skipped, and the balance and the history change
 * in one transaction with the version.
 */
export class AccountBalanceView {
  private readonly balancesTable: string;
  private readonly transfersTable: string;

  constructor(
    private readonly pool: Pool,
    private readonly schema = 'banking_view',
  ) {
    this.balancesTable = `"${schema}".account_balances`;
    this.transfersTable = `"${schema}".account_transfers`;
  }

  async createTables(): Promise<void> {
    await this.pool.query(`
      CREATE SCHEMA IF NOT EXISTS "${this.schema}";
      CREATE TABLE IF NOT EXISTS ${this.balancesTable} (
        account_id text PRIMARY KEY,
        owner text NOT NULL,
        balance bigint NOT NULL,
        version int NOT NULL
      );
      CREATE TABLE IF NOT EXISTS ${this.transfersTable} (
        event_id uuid PRIMARY KEY,
        account_id text NOT NULL,
        transfer_id text NOT NULL,
        amount bigint NOT NULL,
        version int NOT NULL
      );
      CREATE INDEX IF NOT EXISTS account_transfers_by_account ON ${this.transfersTable} (account_id, version);`);
  }

  /** Applies one event; false when it was a redelivery and changed nothing. */
  async apply(change: AccountChange): Promise<boolean> {
    return this.inTransaction(async (db) => {
      const { rows } = await db.query(`SELECT version FROM ${this.balancesTable} WHERE account_id = $1 FOR UPDATE`, [change.accountId]);
      const current: number = rows[0]?.version ?? 0;
      if (change.version <= current) return false;
      if (change.version !== current + 1) {
        // Cannot happen with per-entity ordered delivery; failing makes the event come back later.
        throw new ProjectionGapError(`account ${change.accountId}: got version ${change.version} after ${current}`);
      }
      if (change.opened) {
        await db.query(`INSERT INTO ${this.balancesTable} (account_id, owner, balance, version) VALUES ($1, $2, $3, $4)`, [
          change.accountId,
          change.opened.owner,
          change.opened.balance,
          change.version,
        ]);
        return true;
      }
      if (current === 0) throw new ProjectionGapError(`account ${change.accountId}: version ${change.version} before it was opened`);
      await db.query(`UPDATE ${this.balancesTable} SET balance = balance + $2, version = $3 WHERE account_id = $1`, [
        change.accountId,
        change.transfer?.amount ?? 0,
        change.version,
      ]);
      if (change.transfer) {
        await db.query(`INSERT INTO ${this.transfersTable} (event_id, account_id, transfer_id, amount, version) VALUES ($1, $2, $3, $4, $5)`, [
          change.eventId,
          change.accountId,
          change.transfer.transferId,
          change.transfer.amount,
          change.version,
        ]);
      }
      return true;
    });
  }

  async accounts(): Promise<AccountBalanceRow[]> {
    const { rows } = await this.pool.query(`SELECT account_id, owner, balance, version FROM ${this.balancesTable} ORDER BY account_id`);
    return rows.map((r) => ({ accountId: r.account_id, owner: r.owner, balance: Number(r.balance), version: r.version }));
  }

  async transfersOf(accountId: string): Promise<AccountTransferRow[]> {
    const { rows } = await this.pool.query(
      `SELECT account_id, transfer_id, amount, version FROM ${this.transfersTable} WHERE account_id = $1 ORDER BY version`,
      [accountId],
    );
    return rows.map((r) => ({ accountId: r.account_id, transferId: r.transfer_id, amount: Number(r.amount), version: r.version }));
  }

  private async inTransaction<T>(work: (db: PoolClient) => Promise<T>): Promise<T> {
    const db = await this.pool.connect();
    try {
      await db.query('BEGIN');
      const result = await work(db);
      await db.query('COMMIT');
      return result;
    } catch (err) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      db.release();
    }
  }
}
