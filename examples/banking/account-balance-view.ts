import type { Pool } from 'pg';
import type { Cents } from './account';

export interface AccountBalanceRow {
  accountId: string;
  owner: string;
  balance: Cents;
}

export interface AccountTransferRow {
  accountId: string;
  transferId: string;
  /** Negative for a debit. */
  amount: Cents;
}

/** Reads what AccountBalanceProjection keeps, in its schema (postgresProjection's `schema`, by default the projection's name). */
export class AccountBalanceView {
  private readonly balancesTable: string;
  private readonly transfersTable: string;

  constructor(
    private readonly pool: Pool,
    schema: string,
  ) {
    this.balancesTable = `"${schema}".account_balances`;
    this.transfersTable = `"${schema}".account_transfers`;
  }

  async accounts(): Promise<AccountBalanceRow[]> {
    const { rows } = await this.pool.query(`SELECT account_id, owner, balance FROM ${this.balancesTable} ORDER BY account_id`);
    return rows.map((r) => ({ accountId: r.account_id, owner: r.owner, balance: Number(r.balance) }));
  }

  /** The account's debits and credits, oldest first. */
  async transfersOf(accountId: string): Promise<AccountTransferRow[]> {
    const { rows } = await this.pool.query(`SELECT account_id, transfer_id, amount FROM ${this.transfersTable} WHERE account_id = $1 ORDER BY line`, [accountId]);
    return rows.map((r) => ({ accountId: r.account_id, transferId: r.transfer_id, amount: Number(r.amount) }));
  }
}
