import 'reflect-metadata';
import { Aggregate, Apply, DomainEvent, Process, Type } from '../../../client';

export class OpenAccount {
  constructor(
    public initialBalance: number,
    public owner: string,
  ) {}
}

export class CreditAccount {
  constructor(
    public amount: number,
    public transactionId: string,
  ) {}
}

export class DebitAccount {
  constructor(
    public amount: number,
    public transactionId: string,
  ) {}
}

/** Changes nothing: its @Process returns no events. */
export class CheckBalance {}

export class InsufficientFundsError extends Error {
  constructor(
    readonly balance: number,
    readonly requested: number,
  ) {
    super(`insufficient funds: balance ${balance}, requested ${requested}`);
  }
}

@DomainEvent('AccountOpened')
export class AccountOpened {
  initialBalance!: number;
  owner!: string;
  @Type(() => Date) openedAt!: Date;

  constructor(initialBalance: number, owner: string, openedAt: Date) {
    this.initialBalance = initialBalance;
    this.owner = owner;
    this.openedAt = openedAt;
  }
}

@DomainEvent('AccountCredited')
export class AccountCredited {
  constructor(
    public amount: number,
    public transactionId: string,
  ) {}
}

@DomainEvent('AccountDebited')
export class AccountDebited {
  constructor(
    public amount: number,
    public transactionId: string,
  ) {}
}

@Aggregate('Account')
export class Account {
  balance = 0;
  owner = '';
  @Type(() => Date) openedAt?: Date;
  transactionIds: string[] = [];

  @Process(OpenAccount)
  open(command: OpenAccount) {
    return [new AccountOpened(command.initialBalance, command.owner, new Date('2024-01-02T03:04:05.678Z'))];
  }

  @Process(CreditAccount)
  credit(command: CreditAccount) {
    return new AccountCredited(command.amount, command.transactionId);
  }

  @Process()
  debit(command: DebitAccount) {
    if (command.amount > this.balance) throw new InsufficientFundsError(this.balance, command.amount);
    return [new AccountDebited(command.amount, command.transactionId)];
  }

  @Process(CheckBalance)
  check() {
    return [];
  }

  @Apply()
  opened(event: AccountOpened) {
    this.balance = event.initialBalance;
    this.owner = event.owner;
    this.openedAt = event.openedAt;
  }

  @Apply()
  credited(event: AccountCredited) {
    this.balance += event.amount;
    this.transactionIds.push(event.transactionId);
  }

  @Apply(AccountDebited)
  debited(event: AccountDebited) {
    this.balance -= event.amount;
    this.transactionIds.push(event.transactionId);
  }
}
