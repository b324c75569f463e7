/**
 * A start that failed for a reason the operator can fix. The message is the whole story, so the CLI
 * prints it as it is, without a stack trace.
 */
export class StartupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
