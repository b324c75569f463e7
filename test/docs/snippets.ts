import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * README code that is a copy of real, compiled and tested code: a block between
 * `<!-- snippet: path#name -->` and `<!-- /snippet -->` is every `// #region name` … `// #endregion`
 * part of that file, dedented, joined by blank lines.
 */
const SNIPPET = /<!-- snippet: (\S+?)#(\S+?) -->\n[\s\S]*?<!-- \/snippet -->/g;

export function regionOf(root: string, path: string, name: string): string {
  const lines = readFileSync(resolve(root, path), 'utf8').split('\n');
  const parts: string[][] = [];
  let current: string[] | undefined;
  for (const line of lines) {
    if (line.trim() === `// #region ${name}`) current = [];
    else if (current && line.trim() === '// #endregion') {
      parts.push(dedent(current));
      current = undefined;
    } else current?.push(line);
  }
  if (parts.length === 0) throw new Error(`${path} has no region ${name}`);
  return parts.map((part) => part.join('\n')).join('\n\n');
}

function dedent(all: string[]): string[] {
  const lines = [...all];
  while (lines.length > 0 && lines[0].trim() === '') lines.shift();
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(indent));
}

/** The README with every snippet block filled from its source. */
export function renderSnippets(root: string, readme: string): string {
  return readme.replace(SNIPPET, (_block, path: string, name: string) => {
    return `<!-- snippet: ${path}#${name} -->\n\`\`\`ts\n${regionOf(root, path, name)}\n\`\`\`\n<!-- /snippet -->`;
  });
}

export function snippetNames(readme: string): string[] {
  return [...readme.matchAll(SNIPPET)].map((m) => `${m[1]}#${m[2]}`);
}
