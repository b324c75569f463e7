import { EntityNotFoundError, EventHandlerMethod, EventSubscriber, type AggregateRepository, type EventHandlerContext } from 'eventuate-local-ts/client';
import { money } from '../support/table';
import { AccountCredited, AccountDebited, AccountDebitFailedDueToInsufficientFunds } from './account';
import { RecordCredit, RecordDebit, RecordDebitFailed, type MoneyTransfer } from './money-transfer';

/**
 * The transfers' side of the money-transfer saga: what happened to an account moves the transfer
 * named in the event on (debited, failed, completed). Each step is accepted only once by the
 * transfer, and `ctx.update` skips a redelivered event outright.
 */
@EventSubscriber('moneyTransferWorkflow')
export class MoneyTransferWorkflow {
  constructor(private readonly transfers: AggregateRepository<MoneyTransfer>) {}

  @EventHandlerMethod(AccountDebited)
  async recordDebit(ctx: EventHandlerContext<AccountDebited>) {
    await this.step(ctx, ctx.event.transferId, new RecordDebit());
  }

  @EventHandlerMethod(AccountDebitFailedDueToInsufficientFunds)
  async recordDebitFailed(ctx: EventHandlerContext<AccountDebitFailedDueToInsufficientFunds>) {
    const { amount, balance } = ctx.event;
    await this.step(ctx, ctx.event.transferId, new RecordDebitFailed(`insufficient funds (${money(balance)} < ${money(amount)})`));
  }

  @EventHandlerMethod(AccountCredited)
  async recordCredit(ctx: EventHandlerContext<AccountCredited>) {
    await this.step(ctx, ctx.event.transferId, new RecordCredit());
  }

  private async step(ctx: EventHandlerContext, transferId: string, command: object): Promise<void> {
    try {
      await ctx.update(this.transfers, transferId, command);
    } catch (error) {
      // The transfer exists before its saga touches an account, so a debit or credit that names no
      // transfer was made by someone else (e.g. the README's tour): not this saga's business.
      if (!(error instanceof EntityNotFoundError)) throw error;
    }
  }
}
