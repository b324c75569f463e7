import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderSnippets, snippetNames } from './snippets';

const ROOT = resolve(__dirname, '../..');
const README = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
const packageJson = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8'));

describe('README', () => {
  it('shows code copied from the compiled, tested examples (refresh: node -r ts-node/register/transpile-only test/docs/update-readme.ts)', () => {
    expect(snippetNames(README).length).toBeGreaterThanOrEqual(4);
    expect(README).toBe(renderSnippets(ROOT, README));
  });

  it('imports the library as a user does, from the package\'s entry points, never by a path into this repository', () => {
    const entryPoints = Object.keys(packageJson.exports).filter((subpath) => subpath !== './package.json').map((subpath) => `eventuate-local-ts${subpath.slice(1)}`);
    const imported = [...README.matchAll(/^import [^;]*? from '([^']+)';$/gm)].map((m) => m[1]);
    expect(imported.filter((source) => source.startsWith('eventuate-local-ts')).length).toBeGreaterThanOrEqual(4);
    expect(imported.filter((source) => source.startsWith('.') || (source.startsWith('eventuate-local-ts') && !entryPoints.includes(source)))).toEqual([]);
  });

  it('names npm scripts and files that exist', () => {
    for (const [, script] of README.matchAll(/npm run ([\w:-]+)/g)) expect({ script, defined: script in packageJson.scripts }).toEqual({ script, defined: true });
    for (const [, link] of README.matchAll(/\]\(((?:examples|test|src|client|event-store-server|bench)\/[^)#]*|Dockerfile|docker-compose\.yml)\)/g)) {
      expect({ link, exists: existsSync(resolve(ROOT, link)) }).toEqual({ link, exists: true });
    }
  });

  it('gives the test command CI runs, and what it needs', () => {
    expect(README).toContain('npm test');
    expect(README).toContain('apt-get install -y kcat');
    expect(readFileSync(resolve(ROOT, '.ci/run'), 'utf8')).toMatch(/^npm test( --.*)?$/m); // README's command, possibly with a report option
  });
});
