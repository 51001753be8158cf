// The drizzle schema (src/db/schema.ts) and the database the migrations build must agree: the same
// tables, the same columns, the same types and nullability — on PGlite, and on PostgreSQL when
// DATABASE_URL is set (in a fresh database made for this test and dropped after).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { sql, is } from 'drizzle-orm';
import { PgTable, getTableConfig } from 'drizzle-orm/pg-core';
import pg from 'pg';
import * as schema from '../src/db/schema.ts';
import { openDatabase, type Database } from '../src/db/client.ts';
import { migrate, MIGRATIONS_DIR } from '../src/db/migrate.ts';
import { freshDatabaseUrl, dropDatabase } from './helpers/processes.ts';

interface Column {
  type: string;
  nullable: boolean;
  hasDefault: boolean;
}
type Shape = Record<string, Record<string, Column>>;

// drizzle's SQL type names → PostgreSQL's canonical names (format_type / information_schema).
const ALIASES: Record<string, string> = {
  varchar: 'character varying',
  char: 'character',
  timestamp: 'timestamp without time zone',
  timestamptz: 'timestamp with time zone',
  time: 'time without time zone',
  int: 'integer',
  int4: 'integer',
  int8: 'bigint',
  int2: 'smallint',
  serial: 'integer',
  bigserial: 'bigint',
  smallserial: 'smallint',
  bool: 'boolean',
  float4: 'real',
  float8: 'double precision',
  decimal: 'numeric',
};
function canonical(type: string): string {
  const m = /^([a-z ]+?)\s*(\(.*\))?(\[\])?$/i.exec(type.trim());
  if (!m) return type;
  const base = m[1]!.toLowerCase();
  return `${ALIASES[base] ?? base}${m[2] ?? ''}${m[3] ?? ''}`;
}

/** What src/db/schema.ts declares. */
function schemaShape(): Shape {
  const shape: Shape = {};
  for (const value of Object.values(schema)) {
    if (!is(value, PgTable)) continue;
    const config = getTableConfig(value);
    const inCompositeKey = new Set(config.primaryKeys.flatMap((pk) => pk.columns.map((c) => c.name)));
    shape[config.name] = Object.fromEntries(
      config.columns.map((c) => [
        c.name,
        {
          type: canonical(c.getSQLType()),
          // A primary-key column is NOT NULL whether or not the schema says .notNull().
          nullable: !(c.notNull || c.primary || inCompositeKey.has(c.name)),
          hasDefault: c.hasDefault,
        },
      ]),
    );
  }
  return shape;
}

/** What the migrated database has (information_schema.columns of the public schema). */
async function databaseShape(database: Database): Promise<Shape> {
  const res = await database.db.execute(sql`
    SELECT c.table_name, c.column_name, c.data_type, c.udt_name, c.character_maximum_length, c.numeric_precision, c.is_nullable, c.column_default, c.is_identity
    FROM information_schema.columns c
    JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
    WHERE c.table_schema = 'public' AND c.table_name <> 'schema_migrations'
    ORDER BY c.table_name, c.ordinal_position`);
  const rows = (res as unknown as { rows: Array<Record<string, string | number | null>> }).rows;
  const shape: Shape = {};
  for (const r of rows) {
    let type = String(r.data_type);
    if (type === 'ARRAY') type = `${String(r.udt_name).replace(/^_/, '')}[]`;
    else if (type === 'USER-DEFINED') type = String(r.udt_name);
    else if (r.character_maximum_length != null) type = `${type}(${r.character_maximum_length})`;
    (shape[String(r.table_name)] ??= {})[String(r.column_name)] = {
      type: canonical(type),
      nullable: r.is_nullable === 'YES',
      // An identity column (GENERATED … AS IDENTITY) has its sequence instead of a default expression.
      hasDefault: r.column_default != null || r.is_identity === 'YES',
    };
  }
  return shape;
}

/** Every difference, in words: a table or column on one side only, another type, other nullability,
 *  a default the schema relies on that the database lacks. */
function drift(declared: Shape, actual: Shape): string[] {
  const out: string[] = [];
  for (const table of new Set([...Object.keys(declared), ...Object.keys(actual)])) {
    const d = declared[table];
    const a = actual[table];
    if (!a) {
      out.push(`${table}: in schema.ts, not in the database`);
      continue;
    }
    if (!d) {
      out.push(`${table}: in the database, not in schema.ts`);
      continue;
    }
    for (const column of new Set([...Object.keys(d), ...Object.keys(a)])) {
      const dc = d[column];
      const ac = a[column];
      if (!ac) out.push(`${table}.${column}: in schema.ts, not in the database`);
      else if (!dc) out.push(`${table}.${column}: in the database, not in schema.ts`);
      else {
        if (dc.type !== ac.type)
          out.push(`${table}.${column}: type ${dc.type} in schema.ts, ${ac.type} in the database`);
        if (dc.nullable !== ac.nullable)
          out.push(
            `${table}.${column}: ${dc.nullable ? 'nullable' : 'NOT NULL'} in schema.ts, ${ac.nullable ? 'nullable' : 'NOT NULL'} in the database`,
          );
        // drizzle leaves a column with a schema default out of an INSERT (DEFAULT): the database must have one.
        if (dc.hasDefault && !ac.hasDefault)
          out.push(`${table}.${column}: a default in schema.ts, none in the database`);
      }
    }
  }
  return out;
}

async function migrated(open: () => Promise<Database>) {
  const database = await open();
  try {
    const applied = await migrate(database);
    expect(applied.length).toBeGreaterThan(0);
    return await databaseShape(database);
  } finally {
    await database.close();
  }
}

describe('schema.ts matches the migrations', () => {
  const declared = schemaShape();

  it('the schema declares the tables the app uses (the comparison has something to compare)', () => {
    expect(Object.keys(declared)).toEqual(
      expect.arrayContaining([
        'accounts',
        'applications',
        'oidc_payloads',
        'second_factors',
        'backup_codes',
        'activity',
      ]),
    );
    expect(declared.accounts!.email).toEqual({ type: 'text', nullable: false, hasDefault: false });
    expect(declared.oidc_payloads!.model!.nullable).toBe(false); // composite primary key
  });

  it('the comparison sees every kind of drift', () => {
    const col = (type: string, nullable = false): Column => ({ type, nullable, hasDefault: false });
    const a: Shape = {
      t: {
        id: col('uuid'),
        n: col('integer', true),
        gone: col('text'),
        at: { ...col('timestamp with time zone'), hasDefault: true },
      },
      only_schema: { x: col('text') },
    };
    const b: Shape = {
      t: {
        id: { ...col('uuid'), hasDefault: true },
        n: col('bigint', false),
        extra: col('text'),
        at: col('timestamp with time zone'),
      },
      only_db: { y: col('text') },
    };
    expect(drift(a, b).sort()).toEqual([
      'only_db: in the database, not in schema.ts',
      'only_schema: in schema.ts, not in the database',
      't.at: a default in schema.ts, none in the database',
      't.extra: in the database, not in schema.ts',
      't.gone: in schema.ts, not in the database',
      't.n: nullable in schema.ts, NOT NULL in the database',
      't.n: type integer in schema.ts, bigint in the database',
    ]);
    expect(drift(a, a)).toEqual([]);
    expect(canonical('varchar(255)')).toBe('character varying(255)');
    expect(canonical('timestamp with time zone')).toBe('timestamp with time zone');
  });

  describe('PGlite', () => {
    let dataDir: string;
    let actual: Shape;
    beforeAll(async () => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sesame-schema-'));
      actual = await migrated(() => openDatabase({ dataDir }));
    });
    afterAll(() => {
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('same tables and columns, same types, nullability and defaults', () =>
      expect(drift(declared, actual)).toEqual([]));
  });

  describe.runIf(!!process.env.DATABASE_URL)('PostgreSQL', () => {
    const name = `sesame_schema_${crypto.randomBytes(5).toString('hex')}`;
    let admin: pg.Client;
    let actual: Shape;
    beforeAll(async () => {
      admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      const url = new URL(process.env.DATABASE_URL!);
      url.pathname = `/${name}`;
      actual = await migrated(() => openDatabase({ databaseUrl: url.href, dataDir: os.tmpdir() }));
    });
    afterAll(async () => {
      if (!admin) return;
      // The pool is closed; wait for its backends to go rather than kill them (WITH (FORCE) would
      // make a closing connection emit an error).
      for (let i = 0; i < 100; i++) {
        const { rows } = await admin.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
          [name],
        );
        if (rows[0]!.n === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.end();
    });

    it('same tables and columns, same types, nullability and defaults', () =>
      expect(drift(declared, actual)).toEqual([]));
  });
});

describe.runIf(!!process.env.DATABASE_URL)('migrations on PostgreSQL', () => {
  it('migrate.nodes-starting-together: five nodes migrating an empty database at once all start, and each migration applies once', async () => {
    const name = `sesame_migrate_${crypto.randomBytes(5).toString('hex')}`;
    const url = freshDatabaseUrl(process.env.DATABASE_URL!, name);
    const files = fs.readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f));
    const dbs = await Promise.all(
      Array.from({ length: 5 }, () => openDatabase({ databaseUrl: url, dataDir: os.tmpdir() })),
    );
    try {
      const applied = await Promise.all(dbs.map((d) => migrate(d)));
      expect(applied.map((a) => a.length).sort((a, b) => a - b)).toEqual([0, 0, 0, 0, files.length]);
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
      dropDatabase(process.env.DATABASE_URL!, name);
    }
  });
});
