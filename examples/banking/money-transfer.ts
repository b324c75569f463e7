import { Aggregate, Apply, DomainEvent, Process } from 'eventuate-local-ts/client';
import { requireCents, type Cents } from './account';

export class CreateMoneyTransfer {
  constructor(
    public fromAccountId: string,
    public toAccountId: string,
    public amount: Cents,
  ) {}
}

export class RecordDebit {}

export class RecordDebitFailed {
  constructor(public reason: string) {}
}

export class RecordCredit {}

@DomainEvent('MoneyTransferCreated')
export class MoneyTransferCreated {
  constructor(
    public fromAccountId: string,
    public toAccountId: string,
    public amount: Cents,
  ) {}
}

/** Carries the transfer's details so that the next step of the saga needs no read. */
@DomainEvent('DebitRecorded')
export class DebitRecorded {
  constructor(
    public fromAccountId: string,
    public toAccountId: string,
    public amount: Cents,
  ) {}
}

@DomainEvent('MoneyTransferCompleted')
export class MoneyTransferCompleted {}

@DomainEvent('MoneyTransferFailed')
export class MoneyTransferFailed {
  constructor(public reason: string) {}
}

export type TransferState = 'NEW' | 'DEBITED' | 'COMPLETED' | 'FAILED';

/**
 * Each step is accepted only in the state that precedes it and otherwise changes nothing,
 * so a step that reaches the transfer twice is harmless.
 */
@Aggregate('MoneyTransfer')
export class MoneyTransfer {
  fromAccountId = '';
  toAccountId = '';
  amount: Cents = 0;
  state: TransferState = 'NEW';
  failureReason?: string;

  @Process()
  create(command: CreateMoneyTransfer) {
    requireCents(command.amount, 'transfer amount', 1);
    if (command.fromAccountId === command.toAccountId) throw new RangeError('a transfer needs two different accounts');
    return new MoneyTransferCreated(command.fromAccountId, command.toAccountId, command.amount);
  }

  @Process()
  recordDebit(_command: RecordDebit) {
    return this.state === 'NEW' ? [new DebitRecorded(this.fromAccountId, this.toAccountId, this.amount)] : [];
  }

  @Process()
  recordDebitFailed(command: RecordDebitFailed) {
    return this.state === 'NEW' ? [new MoneyTransferFailed(command.reason)] : [];
  }

  @Process()
  recordCredit(_command: RecordCredit) {
    return this.state === 'DEBITED' ? [new MoneyTransferCompleted()] : [];
  }

  @Apply()
  created(event: MoneyTransferCreated) {
    this.fromAccountId = event.fromAccountId;
    this.toAccountId = event.toAccountId;
    this.amount = event.amount;
  }

  @Apply()
  debitRecorded(_event: DebitRecorded) {
    this.state = 'DEBITED';
  }

  @Apply()
  completed(_event: MoneyTransferCompleted) {
    this.state = 'COMPLETED';
  }

  @Apply()
  failed(event: MoneyTransferFailed) {
    this.state = 'FAILED';
    this.failureReason = event.reason;
  }
}
