import { AggregateRepository, type EventStore, type PostgresProjection } from 'eventuate-local-ts/client';
import { formatTable, money } from '../support/table';
import { Account, OpenAccount, type Cents } from './account';
import type { AccountBalanceView } from './account-balance-view';
import { CreateMoneyTransfer, MoneyTransfer } from './money-transfer';

export interface OpenedAccount {
  accountId: string;
  owner: string;
}

export interface TransferOutcome {
  transferId: string;
  from: OpenedAccount;
  to: OpenedAccount;
  amount: Cents;
  state: string;
  failureReason?: string;
}

/** What the example's main and its test do with the two aggregates. */
export class Bank {
  readonly accounts: AggregateRepository<Account>;
  readonly transfers: AggregateRepository<MoneyTransfer>;

  constructor(store: EventStore) {
    this.accounts = new AggregateRepository(Account, store);
    this.transfers = new AggregateRepository(MoneyTransfer, store);
  }

  async open(owner: string, balance: Cents): Promise<OpenedAccount> {
    const { entityId } = await this.accounts.save(new OpenAccount(owner, balance));
    return { accountId: entityId, owner };
  }

  /** Starts a transfer; the saga's subscribers carry it on. */
  async transfer(from: OpenedAccount, to: OpenedAccount, amount: Cents): Promise<string> {
    const { entityId } = await this.transfers.save(new CreateMoneyTransfer(from.accountId, to.accountId, amount));
    return entityId;
  }

  /** Polls until every transfer is completed or failed; rejects after `timeoutMs`. */
  async outcomes(started: Array<{ transferId: string; from: OpenedAccount; to: OpenedAccount }>, timeoutMs: number): Promise<TransferOutcome[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const outcomes = await Promise.all(
        started.map(async ({ transferId, from, to }) => {
          const { entity } = await this.transfers.find(transferId);
          return { transferId, from, to, amount: entity.amount, state: entity.state, failureReason: entity.failureReason };
        }),
      );
      const pending = outcomes.filter((o) => o.state !== 'COMPLETED' && o.state !== 'FAILED').length;
      if (pending === 0) return outcomes;
      if (Date.now() > deadline) throw new Error(`${pending} of ${started.length} transfers still unfinished after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Waits until the balance projection shows each account as it is now: read your writes, the
   * writes being the saga's last debit or credit of each account.
   */
  async balancesShown(balances: PostgresProjection, accounts: OpenedAccount[], timeoutMs: number): Promise<void> {
    await Promise.all(
      accounts.map(async ({ accountId }) => {
        const { entityVersion } = await this.accounts.find(accountId);
        await balances.waitFor({ entityType: this.accounts.entityType, entityId: accountId, entityVersion }, { timeoutMs });
      }),
    );
  }
}

export async function accountsTable(view: AccountBalanceView, accounts: OpenedAccount[]): Promise<string> {
  const rows = new Map((await view.accounts()).map((row) => [row.accountId, row]));
  const lines = await Promise.all(
    accounts.map(async ({ accountId, owner }) => {
      const history = await view.transfersOf(accountId);
      const balance = rows.get(accountId)?.balance ?? 0;
      const moves = history.map((h) => (h.amount < 0 ? money(h.amount) : `+${money(h.amount)}`)).join(' ');
      return [owner, money(balance), history.length, moves || '-'];
    }),
  );
  return formatTable(['account', 'balance', 'transfers', 'moves'], lines);
}

export function transfersTable(outcomes: TransferOutcome[]): string {
  return formatTable(
    ['#', 'from', 'to', 'amount', 'outcome'],
    outcomes.map((o, i) => [i + 1, o.from.owner, o.to.owner, money(o.amount), o.state === 'FAILED' ? `failed: ${o.failureReason}` : o.state.toLowerCase()]),
  );
}
