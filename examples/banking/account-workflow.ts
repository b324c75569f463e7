// #region subscriber
import { EventHandlerMethod, EventSubscriber, type AggregateRepository, type EventHandlerContext } from 'eventuate-local-ts/client';
// #endregion
import { CreditAccount, DebitAccount, type Account } from './account';
import { DebitRecorded, MoneyTransferCreated } from './money-transfer';

/**
 * The accounts' side of the money-transfer saga: a new transfer debits its source account, a
 * recorded debit credits the target. `ctx.update` passes the transfer event as the triggering
 * event, so a redelivered event finds its token on the account and moves no money twice.
 */
// #region subscriber
@EventSubscriber('accountWorkflow')
export class AccountWorkflow {
  constructor(private readonly accounts: AggregateRepository<Account>) {}

  @EventHandlerMethod(MoneyTransferCreated)
  async debitSourceAccount(ctx: EventHandlerContext<MoneyTransferCreated>) {
    const { fromAccountId, amount } = ctx.event;
    await ctx.update(this.accounts, fromAccountId, new DebitAccount(amount, ctx.entityId));
  }

  @EventHandlerMethod(DebitRecorded)
  async creditTargetAccount(ctx: EventHandlerContext<DebitRecorded>) {
    const { toAccountId, amount } = ctx.event;
    await ctx.update(this.accounts, toAccountId, new CreditAccount(amount, ctx.entityId));
  }
}
// #endregion
