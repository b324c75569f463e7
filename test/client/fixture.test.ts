import 'reflect-metadata';
import { AssertionError } from 'node:assert';
import { Aggregate, Apply, DomainEvent, Process, RegistrationError } from '../../client';
import { aggregateFixture } from '../../client/testing';
import {
  Account,
  AccountCredited,
  AccountDebited,
  AccountOpened,
  CheckBalance,
  CreditAccount,
  DebitAccount,
  InsufficientFundsError,
  OpenAccount,
} from './domain/banking';

const opened = new AccountOpened(100, 'ann', new Date('2024-01-02T03:04:05.678Z'));

describe('aggregateFixture: given events, when a command, expect', () => {
  it('passes when the command returns the expected events', () => {
    const result = aggregateFixture(Account)
      .given(opened, new AccountCredited(20, 't0'))
      .when(new DebitAccount(30, 't1'))
      .expectEvents(new AccountDebited(30, 't1'))
      .expectState((account) => expect(account.balance).toBe(90));
    expect(result.events).toEqual([new AccountDebited(30, 't1')]);
  });

  it('works from no history, and with a single event returned instead of an array', () => {
    aggregateFixture(Account).when(new OpenAccount(5, 'bob')).expectEvents(new AccountOpened(5, 'bob', opened.openedAt));
    aggregateFixture(Account).given(opened).when(new CreditAccount(1, 't')).expectEvents(new AccountCredited(1, 't'));
  });

  it('expectNoEvents passes for a command that decides nothing', () => {
    aggregateFixture(Account).given(opened).when(new CheckBalance()).expectNoEvents();
  });

  it('fails when the events differ, showing both', () => {
    const result = aggregateFixture(Account).given(opened).when(new DebitAccount(30, 't1'));
    expect(() => result.expectEvents(new AccountDebited(31, 't1'))).toThrow(AssertionError);
    expect(() => result.expectEvents(new AccountDebited(31, 't1'))).toThrow(/expected events[\s\S]*31[\s\S]*but got[\s\S]*30/);
    expect(() => result.expectEvents(new AccountCredited(30, 't1'))).toThrow(/AccountCredited[\s\S]*but got[\s\S]*AccountDebited/);
    expect(() => result.expectEvents()).toThrow(AssertionError);
    expect(() => result.expectNoEvents()).toThrow(AssertionError);
  });

  it('passes when the command throws the expected error, by class, message or pattern', () => {
    const result = aggregateFixture(Account).given(opened).when(new DebitAccount(101, 't1'));
    result.expectError(InsufficientFundsError);
    result.expectError(InsufficientFundsError, 'balance 100, requested 101');
    result.expectError('insufficient funds');
    result.expectError(/requested 101$/);
    expect(result.error).toBeInstanceOf(InsufficientFundsError);
  });

  it('fails when the error differs or no error was thrown', () => {
    const failed = aggregateFixture(Account).given(opened).when(new DebitAccount(101, 't1'));
    expect(() => failed.expectError(RangeError)).toThrow(/expected RangeError but the command threw/);
    expect(() => failed.expectError('overdraft')).toThrow(/expected an error message matching 'overdraft'/);
    expect(() => failed.expectError(InsufficientFundsError, 'requested 7')).toThrow(AssertionError);
    expect(() => failed.expectEvents()).toThrow(/expected events, but the command threw/);

    const succeeded = aggregateFixture(Account).given(opened).when(new DebitAccount(1, 't1'));
    expect(() => succeeded.expectError(InsufficientFundsError)).toThrow(/expected an error but the command returned/);
  });

  it('fails an expectState check that returns false', () => {
    const result = aggregateFixture(Account).given(opened).when(new CreditAccount(1, 't'));
    expect(() => result.expectState((account) => account.balance === 0)).toThrow(/the state check failed/);
  });

  it('reports a command the aggregate has no @Process method for', () => {
    class CloseAccount {}
    aggregateFixture(Account).when(new CloseAccount()).expectError(RegistrationError, 'class Account has no @Process method for command CloseAccount');
  });

  it('reports an event class whose JSON would not read back as written', () => {
    class Stamp {}
    @DomainEvent('Stamped')
    class Stamped {
      // Neither the Date nor the nested class has @Type.
      at = new Date('2024-01-01T00:00:00.000Z');
      stamp = new Stamp();
    }
    @Aggregate('Stamper')
    class Stamper {
      @Process(Stamp) stampIt() {
        return [new Stamped()];
      }
      @Apply() stamped(_event: Stamped) {}
    }
    aggregateFixture(Stamper)
      .when(new Stamp())
      .expectError(RegistrationError, 'event Stamped would not read back as written: Stamped.at: the Date 2024-01-01T00:00:00.000Z became the string "2024-01-01T00:00:00.000Z"; add @Type(() => Date)');
  });

  it('reports a @Process method that returns something other than events', () => {
    class Misbehave {}
    @Aggregate('Misbehaving')
    class Misbehaving {
      @Process(Misbehave) misbehave() {
        return [{ amount: 1 }];
      }
    }
    aggregateFixture(Misbehaving)
      .when(new Misbehave())
      .expectError(RegistrationError, 'Misbehaving.misbehave (@Process Misbehave) returned a plain object, which is not an event');
  });
});
