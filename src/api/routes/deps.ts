// What the API's resources are built from: the server's services (deps.ts), each resource file
// taking the few it uses.
import type { Deps } from '../../deps.ts';

export type ApiRouteDeps = Deps & { version: string };
