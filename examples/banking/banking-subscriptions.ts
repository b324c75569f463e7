import type { Logger } from 'pino';
// #region wiring
import { memoryDeadLetters, SubscriptionManager, type EventSource } from 'eventuate-local-ts/client';
// #endregion
import { AccountBalanceProjection } from './account-balance-projection';
import type { AccountBalanceView } from './account-balance-view';
import { AccountWorkflow } from './account-workflow';
import type { Bank } from './banking-scenario';
import { MoneyTransferWorkflow } from './money-transfer-workflow';

export interface BankingSubscriptions {
  manager: SubscriptionManager;
  projection: AccountBalanceProjection;
}

/** The saga's two subscribers and the balance projection, run from one source (Kafka or the feed). */
export function bankingSubscriptions(source: EventSource, bank: Bank, view: AccountBalanceView, logger?: Logger): BankingSubscriptions {
  const projection = new AccountBalanceProjection(view);
  // #region wiring
  const manager = new SubscriptionManager({
    source, // kafkaSource({ brokers: ['localhost:9092'] }) or feedSource({ url: 'http://localhost:8080', cursorStore })
    deadLetters: memoryDeadLetters(), // this run's; postgresDeadLetters({ connectionString }) keeps them for `eventuate-local dead-letters`
    subscribers: [new AccountWorkflow(bank.accounts), new MoneyTransferWorkflow(bank.transfers), projection],
    logger,
  });
  // #endregion
  return { manager, projection };
}
