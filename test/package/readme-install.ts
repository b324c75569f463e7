import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** README's "Use it in your project" section: what the consumer test installs, compiles and quotes. */

const README = readFileSync(resolve(__dirname, '../../README.md'), 'utf8');

export function installSection(): string {
  const start = README.indexOf('\n## Use it in your project\n');
  if (start < 0) throw new Error('README.md has no "## Use it in your project" section');
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

/** The section's tsconfig.json, the only one the consumer project gets. */
export function documentedTsconfig(): { compilerOptions: Record<string, unknown> } {
  const block = /```json\n([\s\S]*?)\n```/.exec(installSection());
  if (!block) throw new Error('README.md\'s "Use it in your project" has no ```json block (the tsconfig.json)');
  return JSON.parse(block[1]);
}

/** The rows of the section's import table: entry point → the names README says it exports. */
export function documentedImports(): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const [, entry, what] of installSection().matchAll(/^\| `(eventuate-local-ts[^`]*)` \| (.*) \|$/gm)) {
    rows.set(entry, [...what.matchAll(/`@?([A-Za-z_$][\w$]*)`/g)].map((m) => m[1]));
  }
  return rows;
}
