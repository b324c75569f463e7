// #region aggregate
import { Aggregate, Apply, DomainEvent, Process } from 'eventuate-local-ts/client';
// #endregion

/** Amounts are integers in cents, so sums are exact. */
export type Cents = number;

export class OpenAccount {
  constructor(
    public owner: string,
    public initialBalance: Cents,
  ) {}
}

// #region aggregate
export class DebitAccount {
  constructor(
    public amount: Cents,
    public transferId: string,
  ) {}
}
// #endregion

export class CreditAccount {
  constructor(
    public amount: Cents,
    public transferId: string,
  ) {}
}

@DomainEvent('AccountOpened')
export class AccountOpened {
  constructor(
    public owner: string,
    public initialBalance: Cents,
  ) {}
}

// #region aggregate
@DomainEvent('AccountDebited')
export class AccountDebited {
  constructor(
    public amount: Cents,
    public transferId: string,
  ) {}
}

// #endregion

@DomainEvent('AccountCredited')
export class AccountCredited {
  constructor(
    public amount: Cents,
    public transferId: string,
  ) {}
}

// #region aggregate
/** A refused debit is an event, not an exception: the transfer saga must hear about it to fail the transfer. */
@DomainEvent('AccountDebitFailedDueToInsufficientFunds')
export class AccountDebitFailedDueToInsufficientFunds {
  constructor(
    public amount: Cents,
    public transferId: string,
    public balance: Cents,
  ) {}
}

@Aggregate('Account')
export class Account {
  owner = '';
  balance: Cents = 0;

  @Process()
  open(command: OpenAccount) {
    requireCents(command.initialBalance, 'initial balance', 0);
    if (command.owner.trim() === '') throw new RangeError('an account needs an owner');
    return new AccountOpened(command.owner, command.initialBalance);
  }

  @Process()
  debit(command: DebitAccount) {
    requireCents(command.amount, 'debit', 1);
    if (command.amount > this.balance) {
      return new AccountDebitFailedDueToInsufficientFunds(command.amount, command.transferId, this.balance);
    }
    return new AccountDebited(command.amount, command.transferId);
  }

  @Process()
  credit(command: CreditAccount) {
    requireCents(command.amount, 'credit', 1);
    return new AccountCredited(command.amount, command.transferId);
  }

  @Apply()
  opened(event: AccountOpened) {
    this.owner = event.owner;
    this.balance = event.initialBalance;
  }

  @Apply()
  debited(event: AccountDebited) {
    this.balance -= event.amount;
  }

  @Apply()
  credited(event: AccountCredited) {
    this.balance += event.amount;
  }

  @Apply()
  debitFailed(_event: AccountDebitFailedDueToInsufficientFunds) {
    // The balance is unchanged; the event exists for the saga.
  }
}

// #endregion

export function requireCents(amount: Cents, what: string, min: Cents): void {
  if (!Number.isSafeInteger(amount) || amount < min) throw new RangeError(`${what} must be a whole number of cents ≥ ${min}, not ${amount}`);
}
