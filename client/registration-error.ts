/**
 * A mistake in how classes are decorated, found when the class is registered
 * (at decoration time), never on the first event in production.
 */
export class RegistrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistrationError';
  }
}

/** A class name for messages; anonymous classes still say something. */
export function describeClass(cls: Function | undefined): string {
  if (!cls) return String(cls);
  return cls.name || '<anonymous class>';
}
