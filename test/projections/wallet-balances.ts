import type { Pool, PoolClient } from 'pg';
import { EventHandlerMethod, Projection, type ProjectionContext } from '../../client';
import { Deposited, WalletOpened } from '../subscriptions/wallet-domain';

/**
 * A projection of wallet balances for the projection tests: no version bookkeeping of its own (the
 * runtime's is what is tested). Amounts in `broken` fail, like a handler bug a deployment fixes;
 * `onDeposit` lets a test act inside the transaction (kill its connection, count calls).
 */
@Projection('wallet_balances', { batchSize: 50, maxAttempts: 2, backoff: { baseMs: 5, maxMs: 10 } })
export class WalletBalances {
  readonly broken = new Set<number>();
  onDeposit?: (ctx: ProjectionContext<Deposited>) => Promise<void>;
  /** Handler calls, redeliveries that reached a handler included. */
  calls = 0;

  async createTables(db: PoolClient) {
    await db.query(`CREATE TABLE balances (wallet_id text PRIMARY KEY, owner text NOT NULL, balance bigint NOT NULL, deposits int NOT NULL)`);
  }

  @EventHandlerMethod(WalletOpened)
  async opened(ctx: ProjectionContext<WalletOpened>) {
    this.calls++;
    await ctx.db.query(`INSERT INTO balances (wallet_id, owner, balance, deposits) VALUES ($1, $2, 0, 0)`, [ctx.entityId, ctx.event.owner]);
  }

  @EventHandlerMethod(Deposited)
  async deposited(ctx: ProjectionContext<Deposited>) {
    this.calls++;
    if (this.broken.has(ctx.event.amount)) throw new Error(`amount ${ctx.event.amount} is unlucky`);
    await this.onDeposit?.(ctx);
    await ctx.db.query(`UPDATE balances SET balance = balance + $2, deposits = deposits + 1 WHERE wallet_id = $1`, [ctx.entityId, ctx.event.amount]);
  }
}

export interface BalanceRow {
  walletId: string;
  balance: number;
  deposits: number;
}

/** The view as readers see it, in `schema`. */
export async function balancesIn(pool: Pool, schema: string): Promise<BalanceRow[]> {
  const { rows } = await pool.query(`SELECT wallet_id, balance, deposits FROM "${schema}".balances ORDER BY wallet_id`);
  return rows.map((r) => ({ walletId: r.wallet_id, balance: Number(r.balance), deposits: r.deposits }));
}
