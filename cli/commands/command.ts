/** A CLI subcommand: a module in this directory exporting `command`. The file name is the command's name. */
export interface Command {
  /** One line for `eventuate-local help`. */
  description: string;
  /** Runs with the arguments after the command name; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}
