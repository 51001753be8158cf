// Applies migrations/NNNN_name.sql in order, each once, under an advisory lock so that several
// nodes starting together do not race.
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { Database } from './client.ts';
import { ROOT_DIR } from '../lib/paths.ts';
import { ADVISORY_LOCKS } from './locks.ts';

export const MIGRATIONS_DIR = path.join(ROOT_DIR, 'migrations');
const LOCK_ID = ADVISORY_LOCKS.migrations;

export async function migrate(database: Database, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = fs
    .readdirSync(dir)
    .filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f))
    .sort();
  const applied: string[] = [];
  await database.maintenance.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${LOCK_ID})`);
    // Under the lock too: two nodes creating the table at once race in PostgreSQL's catalog
    // (a unique violation on pg_type), IF NOT EXISTS or not.
    await tx.execute(
      sql.raw(
        'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
      ),
    );
    const rows = await tx.execute(sql`SELECT name FROM schema_migrations`);
    const done = new Set((rows as unknown as { rows: { name: string }[] }).rows.map((r) => r.name));
    for (const file of files) {
      if (done.has(file)) continue;
      const body = fs.readFileSync(path.join(dir, file), 'utf8');
      // Statements are split on ";" at line ends: migrations keep one statement per terminated line group.
      for (const statement of splitStatements(body)) await tx.execute(sql.raw(statement));
      await tx.execute(sql`INSERT INTO schema_migrations (name) VALUES (${file})`);
      applied.push(file);
    }
  });
  return applied;
}

export function splitStatements(script: string): string[] {
  const withoutComments = script
    .split('\n')
    .filter((l) => !l.trim().startsWith('--'))
    .join('\n');
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}
