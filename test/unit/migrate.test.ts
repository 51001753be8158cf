// How migration files are cut into statements.
import fs from 'node:fs';
import { describe, it, expect } from 'vitest';
import { splitStatements, MIGRATIONS_DIR } from '../../src/db/migrate.ts';

describe('splitStatements', () => {
  it('one statement per ";" at a line end, trimmed, the last one with or without ";"', () => {
    expect(splitStatements('CREATE TABLE a (x int);\nCREATE INDEX a_x ON a (x);  \n\nSELECT 1')).toEqual([
      'CREATE TABLE a (x int)',
      'CREATE INDEX a_x ON a (x)',
      'SELECT 1',
    ]);
  });
  it('a statement over several lines stays whole; a ";" inside a line does not cut it', () => {
    expect(splitStatements("CREATE TABLE a (\n  x text DEFAULT 'a;b',\n  y int\n);\nSELECT 2;")).toEqual([
      "CREATE TABLE a (\n  x text DEFAULT 'a;b',\n  y int\n)",
      'SELECT 2',
    ]);
  });
  it('comment lines go, indented ones too; "--" inside a line is kept', () => {
    expect(splitStatements("-- header\n  -- indented\nSELECT '--not a comment';\n-- trailer\n")).toEqual([
      "SELECT '--not a comment'",
    ]);
  });
  it('Windows line ends split the same way', () => {
    expect(splitStatements('SELECT 1;\r\nSELECT 2;\r\n')).toEqual(['SELECT 1', 'SELECT 2']);
  });
  it('nothing but comments and blank lines is no statement', () => {
    expect(splitStatements('-- nothing\n\n   \n')).toEqual([]);
  });
  it('the shipped migrations have no statement that starts with a stray comment or ends with ";"', () => {
    const files = fs.readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const statements = splitStatements(fs.readFileSync(`${MIGRATIONS_DIR}/${f}`, 'utf8'));
      expect(statements.length, f).toBeGreaterThan(0);
      for (const s of statements) {
        expect(s, f).toMatch(/^(CREATE|ALTER|DROP|INSERT|UPDATE|DELETE|COMMENT)\b/i);
        expect(s.endsWith(';'), f).toBe(false);
      }
    }
  });
});
