import 'reflect-metadata';
import { Aggregate, Apply, DomainEvent, Process } from '../../client';

export class OpenWallet {
  constructor(public owner: string) {}
}
export class Deposit {
  constructor(public amount: number) {}
}
export class Withdraw {
  constructor(
    public amount: number,
    public transferId: string,
  ) {}
}
export class RequestTransfer {
  constructor(
    public walletId: string,
    public amount: number,
  ) {}
}

@DomainEvent('WalletOpened')
export class WalletOpened {
  constructor(public owner: string) {}
}

@DomainEvent('Deposited')
export class Deposited {
  constructor(public amount: number) {}
}

@DomainEvent('Withdrawn')
export class Withdrawn {
  constructor(
    public amount: number,
    public transferId: string,
  ) {}
}

@DomainEvent('TransferRequested')
export class TransferRequested {
  constructor(
    public walletId: string,
    public amount: number,
  ) {}
}

@Aggregate('Wallet')
export class Wallet {
  owner = '';
  balance = 0;

  @Process(OpenWallet)
  open(command: OpenWallet) {
    return [new WalletOpened(command.owner)];
  }

  @Process(Deposit)
  deposit(command: Deposit) {
    return [new Deposited(command.amount)];
  }

  @Process(Withdraw)
  withdraw(command: Withdraw) {
    return [new Withdrawn(command.amount, command.transferId)];
  }

  @Apply(WalletOpened)
  opened(event: WalletOpened) {
    this.owner = event.owner;
  }

  @Apply(Deposited)
  deposited(event: Deposited) {
    this.balance += event.amount;
  }

  @Apply(Withdrawn)
  withdrawn(event: Withdrawn) {
    this.balance -= event.amount;
  }
}

@Aggregate('Transfer')
export class Transfer {
  walletId = '';
  amount = 0;

  @Process(RequestTransfer)
  request(command: RequestTransfer) {
    return [new TransferRequested(command.walletId, command.amount)];
  }

  @Apply(TransferRequested)
  requested(event: TransferRequested) {
    this.walletId = event.walletId;
    this.amount = event.amount;
  }
}
