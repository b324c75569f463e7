import type { Pool } from 'pg';
import type { Logger } from 'pino';
// #region wiring
import { postgresProjection, SubscriptionManager } from 'eventuate-local-ts/client';
// #endregion
import type { DeadLetterStore, EventSource, PostgresProjection } from 'eventuate-local-ts/client';
import { AccountBalanceProjection } from './account-balance-projection';
import { AccountBalanceView } from './account-balance-view';
import { AccountWorkflow } from './account-workflow';
import type { Bank } from './banking-scenario';
import { MoneyTransferWorkflow } from './money-transfer-workflow';

export interface BankingSubscriptionsOptions {
  source: EventSource;
  bank: Bank;
  /** The database of the balance projection, and its schema there (default: the projection's name, account_balances). */
  viewPool: Pool;
  viewSchema?: string;
  /** Durable (postgresDeadLetters) when the view is: a parked account must stay parked across restarts. */
  deadLetters: DeadLetterStore;
  logger?: Logger;
}

export interface BankingSubscriptions {
  manager: SubscriptionManager;
  /** The balance projection as it runs: waitFor a write, its checkpoint. */
  balances: PostgresProjection<AccountBalanceProjection>;
  /** What the projection shows. */
  view: AccountBalanceView;
}

/** The saga's two subscribers and the balance projection, run from one source (Kafka or the feed). */
export function bankingSubscriptions({ source, bank, viewPool, viewSchema, deadLetters, logger }: BankingSubscriptionsOptions): BankingSubscriptions {
  // #region wiring
  const balances = postgresProjection(new AccountBalanceProjection(), { pool: viewPool, schema: viewSchema }); // its tables and its position
  const manager = new SubscriptionManager({
    source, // kafkaSource({ brokers: ['localhost:9092'] }) or feedSource({ url: 'http://localhost:8080', cursorStore })
    deadLetters, // postgresDeadLetters({ connectionString }) beside the view, for `eventuate-local dead-letters`; memoryDeadLetters() for a test
    subscribers: [new AccountWorkflow(bank.accounts), new MoneyTransferWorkflow(bank.transfers), balances],
    logger,
  });
  // #endregion
  return { manager, balances, view: new AccountBalanceView(viewPool, balances.schema) };
}
