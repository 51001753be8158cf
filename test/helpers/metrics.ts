// Reading Prometheus metrics as a scraper does: one sample's value from the exposition text.
import type { TestServer } from './server.ts';

/** One sample's value from the exposition text (0 when absent): the first line of `name` whose
 *  labels include all of `labels`. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const inside = line.slice(name.length).match(/^\{([^}]*)\}/)?.[1] ?? '';
    const have = inside ? inside.split(',') : [];
    if (want.every((w) => have.includes(w))) return Number(line.split(' ').pop());
  }
  return 0;
}

/** How many PostgreSQL queries the server has made so far (both outcomes). */
export async function databaseQueries(srv: TestServer): Promise<number> {
  const text = await srv.deps.metrics.text();
  const name = 'sesame_dependency_duration_seconds_count';
  return (
    sample(text, name, { dependency: 'database', outcome: 'ok' }) +
    sample(text, name, { dependency: 'database', outcome: 'error' })
  );
}
