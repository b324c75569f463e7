import { EventHandlerMethod, EventSubscriber, type EventHandlerContext } from 'eventuate-local-ts/client';
import { AccountCredited, AccountDebited, AccountDebitFailedDueToInsufficientFunds, AccountOpened } from './account';
import type { AccountBalanceView, AccountChange } from './account-balance-view';

/** Feeds AccountBalanceView from Account events; the view itself skips redeliveries by version. */
@EventSubscriber('accountBalanceView')
export class AccountBalanceProjection {
  /** Deliveries the view had already applied: at-least-once delivery made visible. */
  redeliveries = 0;

  constructor(private readonly view: AccountBalanceView) {}

  @EventHandlerMethod(AccountOpened)
  async opened(ctx: EventHandlerContext<AccountOpened>) {
    await this.apply(ctx, { opened: { owner: ctx.event.owner, balance: ctx.event.initialBalance } });
  }

  @EventHandlerMethod(AccountDebited)
  async debited(ctx: EventHandlerContext<AccountDebited>) {
    await this.apply(ctx, { transfer: { transferId: ctx.event.transferId, amount: -ctx.event.amount } });
  }

  @EventHandlerMethod(AccountCredited)
  async credited(ctx: EventHandlerContext<AccountCredited>) {
    await this.apply(ctx, { transfer: { transferId: ctx.event.transferId, amount: ctx.event.amount } });
  }

  /** Moves the account's version only, so the view stays gap-free. */
  @EventHandlerMethod(AccountDebitFailedDueToInsufficientFunds)
  async debitFailed(ctx: EventHandlerContext<AccountDebitFailedDueToInsufficientFunds>) {
    await this.apply(ctx, {});
  }

  private async apply(ctx: EventHandlerContext, change: Pick<AccountChange, 'opened' | 'transfer'>): Promise<void> {
    const applied = await this.view.apply({ accountId: ctx.entityId, version: ctx.entityVersion, eventId: ctx.eventId, ...change });
    if (!applied) this.redeliveries++;
  }
}
