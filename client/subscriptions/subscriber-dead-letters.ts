import type { DeadLetter, DeadLetterFilter, DeadLetterStore } from './dead-letter-store';

/** A retry or discard that cannot be done as asked; the message says why and what to do instead. */
export class DeadLetterRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeadLetterRequestError';
  }
}

/**
 * One subscriber's dead letters, as people work with them: from code (`manager.deadLetters(id)`)
 * or from `eventuate-local dead-letters` in another process. Retries are carried out by the running
 * subscriber, which alone has the handler: at once when it runs in this process, otherwise at its
 * next poll of the store.
 */
export class SubscriberDeadLetters {
  constructor(
    private readonly store: DeadLetterStore,
    readonly subscriberId: string,
    /** The subscriber running in this process, if it is. */
    private readonly running?: { processPending(): Promise<void> },
  ) {}

  /** Failed and parked letters, oldest first. */
  list(filter?: DeadLetterFilter): Promise<DeadLetter[]> {
    return this.store.list(this.subscriberId, filter);
  }

  /**
   * Asks for a retry of failed letter `id` (after fixing the handler); when it is handled, the events
   * parked behind it follow in order. Resolves with the ids asked for; when the subscriber runs in this
   * process, after the retry was made (list() then shows the outcome).
   */
  async retry(id: string): Promise<string[]> {
    const letter = await this.existing(id);
    if (letter.state === 'parked') throw new DeadLetterRequestError(await this.parkedMessage(letter, 'retry'));
    if (!letter.event) throw new DeadLetterRequestError(`${this.where(id)} is a message that is not an event (${letter.error}): no handler can take it, it can only be discarded`);
    const marked = await this.store.requestRetry(this.subscriberId, [id]);
    await this.running?.processPending();
    return marked;
  }

  /** Asks for a retry of every failed letter that holds an event; see retry(). */
  async retryAll(): Promise<string[]> {
    const marked = await this.store.requestRetry(this.subscriberId, 'all');
    if (marked.length > 0) await this.running?.processPending();
    return marked;
  }

  /**
   * Gives up on failed letter `id` for good: its event is never handled. The events parked behind it
   * (if it parked its entity) are then handled in order. Resolves with the discarded letter.
   */
  async discard(id: string): Promise<DeadLetter> {
    const letter = await this.existing(id);
    if (letter.state === 'parked') throw new DeadLetterRequestError(await this.parkedMessage(letter, 'discard'));
    if (!(await this.store.remove(this.subscriberId, id))) throw new DeadLetterRequestError(`${this.where(id)} was removed meanwhile (retried or discarded elsewhere)`);
    if (letter.parksEntity) await this.running?.processPending();
    return letter;
  }

  private async existing(id: string): Promise<DeadLetter> {
    const letter = await this.store.find(this.subscriberId, id);
    if (!letter) throw new DeadLetterRequestError(`${this.where(id)} does not exist (list shows the ids)`);
    return letter;
  }

  private async parkedMessage(letter: DeadLetter, verb: string): Promise<string> {
    const [head] = await this.store.list(this.subscriberId, { entityKey: letter.entityKey, parksEntity: true, limit: 1 });
    return (
      `cannot ${verb} ${this.where(letter.id)}: it has not failed, it is parked behind ${head ? `failed letter ${head.id}` : 'a failed letter'} of entity ${letter.entityKey}. ` +
      'Retry or discard that one; the parked events then follow in order.'
    );
  }

  private where(id: string): string {
    return `dead letter ${id} of subscriber ${this.subscriberId}`;
  }
}
