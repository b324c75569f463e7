// #region fixture
import { aggregateFixture } from 'eventuate-local-ts/testing';
// #endregion
import {
  Account,
  AccountCredited,
  AccountDebited,
  AccountDebitFailedDueToInsufficientFunds,
  AccountOpened,
  CreditAccount,
  DebitAccount,
  OpenAccount,
} from './account';
import {
  CreateMoneyTransfer,
  DebitRecorded,
  MoneyTransfer,
  MoneyTransferCompleted,
  MoneyTransferCreated,
  MoneyTransferFailed,
  RecordCredit,
  RecordDebit,
  RecordDebitFailed,
} from './money-transfer';

describe('Account', () => {
  // #region fixture
  const account = () => aggregateFixture(Account).given(new AccountOpened('Ann', 100_00));
  // #endregion

  it('opens with an owner and a balance of whole cents', () => {
    aggregateFixture(Account).when(new OpenAccount('Ann', 100_00)).expectEvents(new AccountOpened('Ann', 100_00));
    aggregateFixture(Account).when(new OpenAccount('Ann', 0.5)).expectError(RangeError, 'whole number of cents');
    aggregateFixture(Account).when(new OpenAccount(' ', 1)).expectError(RangeError, 'owner');
  });

  // #region fixture
  it('debits up to its balance and refuses more with an event the saga hears', () => {
    account()
      .when(new DebitAccount(100_00, 't-1'))
      .expectEvents(new AccountDebited(100_00, 't-1'))
      .expectState((a) => expect(a.balance).toBe(0));
    account()
      .given(new AccountDebited(60_00, 't-1'))
      .when(new DebitAccount(40_01, 't-2'))
      .expectEvents(new AccountDebitFailedDueToInsufficientFunds(40_01, 't-2', 40_00))
      .expectState((a) => expect(a.balance).toBe(40_00));
  });
  // #endregion

  it('credits', () => {
    account()
      .when(new CreditAccount(5_00, 't-1'))
      .expectEvents(new AccountCredited(5_00, 't-1'))
      .expectState((a) => expect(a.balance).toBe(105_00));
    account().when(new CreditAccount(0, 't-1')).expectError(RangeError);
  });
});

describe('MoneyTransfer', () => {
  const created = () => aggregateFixture(MoneyTransfer).given(new MoneyTransferCreated('a', 'b', 10_00));

  it('is created between two accounts for a positive amount', () => {
    aggregateFixture(MoneyTransfer).when(new CreateMoneyTransfer('a', 'b', 10_00)).expectEvents(new MoneyTransferCreated('a', 'b', 10_00));
    aggregateFixture(MoneyTransfer).when(new CreateMoneyTransfer('a', 'a', 10_00)).expectError(RangeError, 'two different');
    aggregateFixture(MoneyTransfer).when(new CreateMoneyTransfer('a', 'b', -1)).expectError(RangeError);
  });

  it('goes created -> debited -> completed, each step once', () => {
    created().when(new RecordDebit()).expectEvents(new DebitRecorded('a', 'b', 10_00));
    created().given(new DebitRecorded('a', 'b', 10_00)).when(new RecordDebit()).expectNoEvents();
    created()
      .given(new DebitRecorded('a', 'b', 10_00))
      .when(new RecordCredit())
      .expectEvents(new MoneyTransferCompleted())
      .expectState((t) => expect(t.state).toBe('COMPLETED'));
    created().when(new RecordCredit()).expectNoEvents();
  });

  it('fails with its reason only before the debit was recorded', () => {
    created()
      .when(new RecordDebitFailed('insufficient funds'))
      .expectEvents(new MoneyTransferFailed('insufficient funds'))
      .expectState((t) => expect([t.state, t.failureReason]).toEqual(['FAILED', 'insufficient funds']));
    created().given(new DebitRecorded('a', 'b', 10_00)).when(new RecordDebitFailed('late')).expectNoEvents();
  });
});
