#!/usr/bin/env node
// `sesame` command. Runs the compiled build when there is one (Docker image), else the TypeScript
// sources through tsx (a plain `npm install` checkout).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { format } from 'node:util';

// `sesame serve` logs JSON lines only: what a library prints while the modules load (oidc-provider's
// runtime notice) is written as one too, until the server's logger takes console over (lib/logger.ts).
// (console.error stays: a configuration error before the logger exists is a plain line on stderr.)
if (process.argv[2] === 'serve') {
  const LEVELS = { log: 30, info: 30, warn: 40 };
  for (const [name, level] of Object.entries(LEVELS)) {
    console[name] = (...args) => {
      const msg = format(...args);
      process.stdout.write(`${JSON.stringify({ level, time: Date.now(), service: 'sesame', msg })}\n`);
    };
  }
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const compiled = path.join(root, 'dist/src/cli/main.js');
let mod;
if (existsSync(compiled)) {
  mod = await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  mod = await import(pathToFileURL(path.join(root, 'src/cli/main.ts')).href);
}
await mod.cli(process.argv.slice(2));
