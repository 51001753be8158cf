import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** views/ at the project root, whether running from src/ (tsx) or dist/src/ (compiled). */
export const ROOT_DIR = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');
export const VIEWS_DIR = path.join(ROOT_DIR, 'views');
