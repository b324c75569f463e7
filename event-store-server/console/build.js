// `npm run build [-- tsc options]`: compiles with tsc, passing the options on (the package test builds
// with --outDir), then copies the console's browser files, shipped as they are, next to the compiled
// server, where console-routes.js looks for them.
const { execFileSync } = require('node:child_process');
const { cpSync } = require('node:fs');
const { resolve } = require('node:path');

const args = process.argv.slice(2);
const at = args.findIndex((arg) => arg === '--outDir' || arg.startsWith('--outDir='));
// tsconfig.json's outDir unless the command line gives another.
const outDir = at < 0 ? 'dist' : args[at].startsWith('--outDir=') ? args[at].slice('--outDir='.length) : args[at + 1];
try {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', ...args], { stdio: 'inherit' });
} catch (err) {
  process.exit(err.status ?? 1); // tsc has printed its errors
}
// npm runs scripts in the package's root.
cpSync(resolve('event-store-server/console/assets'), resolve(outDir, 'event-store-server/console/assets'), { recursive: true });
