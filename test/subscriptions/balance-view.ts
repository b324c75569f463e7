import type { Pool } from 'pg';
import { EventHandlerContext, EventHandlerMethod, EventSubscriber } from '../../client';
import { Deposited, WalletOpened } from './wallet-domain';

/**
 * A view of wallet balances in PostgreSQL for the dead-letter tests, fed from the feed or Kafka
 * under the default failure policy ('park'). It applies an entity's event only when its version is
 * above the last one applied (a redelivery changes nothing), so an event handled out of order is
 * lost and the balance ends wrong: the tests' exact balances prove the order. Amounts in `broken`
 * fail, like a handler bug that a deployment later fixes.
 */
export function balanceViewClass(subscriberId: string) {
  @EventSubscriber(subscriberId, { maxAttempts: 2, backoff: { baseMs: 1, maxMs: 5 } })
  class BalanceView {
    readonly broken = new Set<number>([13]);

    constructor(
      readonly pool: Pool,
      readonly table: string,
    ) {}

    @EventHandlerMethod(WalletOpened)
    opened(ctx: EventHandlerContext<WalletOpened>) {
      return this.apply(ctx, 0);
    }

    @EventHandlerMethod(Deposited)
    deposited(ctx: EventHandlerContext<Deposited>) {
      if (this.broken.has(ctx.event.amount)) throw new Error(`amount ${ctx.event.amount} is unlucky`);
      return this.apply(ctx, ctx.event.amount);
    }

    async apply(ctx: EventHandlerContext<object>, amount: number) {
      await this.pool.query(
        `INSERT INTO ${this.table} (wallet, balance, version) VALUES ($1, $2, $3)
         ON CONFLICT (wallet) DO UPDATE SET balance = ${this.table}.balance + EXCLUDED.balance, version = EXCLUDED.version
         WHERE ${this.table}.version < EXCLUDED.version`,
        [ctx.entityId, amount, ctx.entityVersion],
      );
    }
  }
  return BalanceView;
}

export async function createBalanceTable(pool: Pool, table: string): Promise<void> {
  await pool.query(`CREATE TABLE ${table} (wallet text PRIMARY KEY, balance integer NOT NULL, version integer NOT NULL)`);
}

export async function balanceOf(pool: Pool, table: string, wallet: string): Promise<{ balance: number; version: number } | undefined> {
  const { rows } = await pool.query<{ balance: number; version: number }>(`SELECT balance, version FROM ${table} WHERE wallet = $1`, [wallet]);
  return rows[0];
}
