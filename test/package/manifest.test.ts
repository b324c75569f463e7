import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { ROOT } from './consumer-project';
import { documentedImports } from './readme-install';

const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const paths: Record<string, string[]> = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile).config.compilerOptions.paths;

describe('the package\'s entry points', () => {
  it('are mapped by tsconfig.json\'s paths to the sources of the files package.json exports', () => {
    const exported = Object.entries(packageJson.exports as Record<string, string | { types: string; default: string }>)
      .filter(([, target]) => typeof target !== 'string')
      .map(([subpath, target]) => [`eventuate-local-ts${subpath.slice(1)}`, (target as { default: string }).default]);
    const mapped = Object.entries(paths).map(([name, [source]]) => [name, source.replace(/^\.\//, './dist/').replace(/\.ts$/, '.js')]);
    expect(Object.fromEntries(mapped)).toEqual(Object.fromEntries(exported));
  });

  it('export the names README\'s import table lists (the others are compiled against the packed package in consumer.test.ts)', () => {
    const server = require('eventuate-local-ts/server'); // eslint-disable-line @typescript-eslint/no-require-imports
    const names = documentedImports().get('eventuate-local-ts/server') ?? [];
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((name) => typeof server[name] !== 'function')).toEqual([]);
    expect([...documentedImports().keys()].sort()).toEqual(Object.keys(paths).sort());
  });
});
