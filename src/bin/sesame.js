#!/usr/bin/env node
// `sesame` command. Runs the compiled build when there is one (Docker image), else the TypeScript
// sources through tsx (a plain `npm install` checkout).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

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
