/** `node -r ts-node/register/transpile-only test/docs/update-readme.ts`: refreshes README's snippets from their sources. */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderSnippets } from './snippets';

const ROOT = resolve(__dirname, '../..');
const path = resolve(ROOT, 'README.md');
writeFileSync(path, renderSnippets(ROOT, readFileSync(path, 'utf8')));
