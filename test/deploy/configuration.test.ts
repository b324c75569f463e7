import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { CONFIG_VARIABLES, configTableMarkdown } from '../../event-store-server';

const ROOT = resolve(__dirname, '../..');
const README = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
const documented = new Set(CONFIG_VARIABLES.map((v) => v.name));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** NAME -> the files reading it: `process.env.NAME`, `env['NAME']`, and config.ts's read('NAME') helpers. */
function variablesRead(): Map<string, string[]> {
  const patterns = [/\benv(?:\.([A-Z][A-Z0-9_]*)|\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\])/g, /\b(?:read|integer|list)\(\s*['"]([A-Z][A-Z0-9_]*)['"]/g];
  const found = new Map<string, string[]>();
  for (const file of [...sourceFiles(resolve(ROOT, 'event-store-server')), ...sourceFiles(resolve(ROOT, 'src'))]) {
    const text = readFileSync(file, 'utf8');
    for (const pattern of patterns) {
      for (const match of text.matchAll(pattern)) {
        const name = match[1] ?? match[2];
        found.set(name, [...new Set([...(found.get(name) ?? []), relative(ROOT, file)])]);
      }
    }
  }
  return found;
}

describe('configuration documentation', () => {
  const read = variablesRead();

  it('finds the variables the server reads (the scan itself works)', () => {
    for (const name of ['PORT', 'DATABASE_URL', 'KAFKA_BROKERS', 'LOG_LEVEL']) expect(read.has(name)).toBe(true);
  });

  it('lists every variable the server reads in CONFIG_VARIABLES', () => {
    const undocumented = [...read.entries()].filter(([name]) => !documented.has(name)).map(([name, files]) => `${name} (${files.join(', ')})`);
    expect(undocumented).toEqual([]);
  });

  it('reads every variable CONFIG_VARIABLES lists', () => {
    expect([...documented].filter((name) => !read.has(name))).toEqual([]);
  });

  it("shows CONFIG_VARIABLES in README's configuration table, as configTableMarkdown() renders it", () => {
    const table = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(README);
    expect(table).not.toBeNull();
    expect(table![1].trim()).toBe(configTableMarkdown());
    for (const name of documented) expect(table![1]).toContain(`\`${name}\``);
  });
});
