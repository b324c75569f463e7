import { DomainEvent } from '../decorators/domain-event';
import type { JsonObject } from '../../src/model';

/**
 * The events of a saga instance's own stream (entity type: the saga's name). Everything the
 * orchestrator knows about an instance is recomputed from them, so a crash loses nothing, and the
 * stream reads as the saga's timeline in the history, the console and the CLI.
 */

/** A command to a participant, as the saga stream carries it: participants read it from there. */
export interface SagaCommandMessage {
  /** The step it belongs to. */
  step: string;
  /** Unique per command; the participant writes under it as the triggering token, so it is applied once. */
  commandId: string;
  /** The participant's entity type and the entity the command is for. */
  participantType: string;
  participantId: string;
  /** The command class's name, which the participant's @Process method takes. */
  commandType: string;
  command: JsonObject;
  /** True: the command creates the participant's entity. */
  creates?: boolean;
}

/** What answered a command: the participant's event. */
export interface SagaReplyReference {
  replyEventId: string;
  replyEventType: string;
}

@DomainEvent('SagaStarted')
export class SagaStarted {
  constructor(
    public data: JsonObject,
    /** The instance's own id, which the ids of entities its steps create derive from (absent in sagas started before it was written). */
    public sagaId?: string,
  ) {}
}

/** A step's condition was false for the data: its action is not sent and nothing is compensated. */
@DomainEvent('SagaStepSkipped')
export class SagaStepSkipped {
  constructor(public step: string) {}
}

@DomainEvent('SagaStepRequested')
export class SagaStepRequested implements SagaCommandMessage {
  constructor(
    public step: string,
    public commandId: string,
    public participantType: string,
    public participantId: string,
    public commandType: string,
    public command: JsonObject,
    /** True: the command creates the participant's entity (absent otherwise). */
    public creates?: boolean,
  ) {}
}

/** The participant's success reply, and the saga's data after it recorded what it needed from it. */
@DomainEvent('SagaStepSucceeded')
export class SagaStepSucceeded implements SagaReplyReference {
  constructor(
    public step: string,
    public commandId: string,
    public replyEventId: string,
    public replyEventType: string,
    public data: JsonObject,
  ) {}
}

/** The participant's failure reply (a declared failure event, or the error its @Process threw), or a definition that threw: the saga compensates. */
@DomainEvent('SagaStepFailed')
export class SagaStepFailed implements Partial<SagaReplyReference> {
  constructor(
    public step: string,
    /** Empty when no command was sent: the saga's definition threw for the step. */
    public commandId: string,
    public reason: string,
    public data: JsonObject,
    public replyEventId?: string,
    public replyEventType?: string,
  ) {}
}

/** Undoes a step whose action succeeded; `compensates` is the action's command id (the participant's tombstone names it). */
@DomainEvent('SagaCompensationRequested')
export class SagaCompensationRequested implements SagaCommandMessage {
  constructor(
    public step: string,
    public commandId: string,
    public compensates: string,
    public attempt: number,
    public participantType: string,
    public participantId: string,
    public commandType: string,
    public command: JsonObject,
  ) {}
}

@DomainEvent('SagaCompensationDone')
export class SagaCompensationDone implements SagaReplyReference {
  constructor(
    public step: string,
    public commandId: string,
    public replyEventId: string,
    public replyEventType: string,
  ) {}
}

/** A compensation the participant refused; it is sent again (a new command id) until its attempts run out. */
@DomainEvent('SagaCompensationFailed')
export class SagaCompensationFailed implements SagaReplyReference {
  constructor(
    public step: string,
    public commandId: string,
    public attempt: number,
    public replyEventId: string,
    public replyEventType: string,
    public reason: string,
  ) {}
}

@DomainEvent('SagaCompleted')
export class SagaCompleted {
  constructor(public data: JsonObject) {}
}

/** Every step done before the failed one was compensated. */
@DomainEvent('SagaRolledBack')
export class SagaRolledBack {
  constructor(
    public data: JsonObject,
    public failedStep: string,
    public reason: string,
  ) {}
}

/** The saga cannot go on by itself (a compensation kept failing, its definition threw): a person must look. */
@DomainEvent('SagaFailed')
export class SagaFailed {
  constructor(
    public data: JsonObject,
    public step: string,
    public error: string,
  ) {}
}

/**
 * Written by a participant on its own entity, under the command's id as triggering token, when its
 * @Process threw: the failure reply. The token keeps a redelivered command from succeeding later.
 */
@DomainEvent('SagaCommandFailed')
export class SagaCommandFailed {
  constructor(
    public commandType: string,
    public errorName: string,
    public error: string,
  ) {}
}

/**
 * Written by a participant on its own entity, under the *action's* command id, when a compensation
 * arrived before its action: the late action then finds its token taken and is never applied. It is
 * also the compensation's reply (nothing was done, so nothing is left to undo).
 */
@DomainEvent('SagaActionCancelled')
export class SagaActionCancelled {
  constructor(
    public cancelledCommandId: string,
    public compensationCommandId: string,
  ) {}
}
