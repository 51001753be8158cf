// Sesame's version (package.json), for what reports it: the API's OpenAPI document.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT_DIR } from './paths.ts';

export const VERSION: string = (
  JSON.parse(fs.readFileSync(path.join(ROOT_DIR, 'package.json'), 'utf8')) as { version: string }
).version;
