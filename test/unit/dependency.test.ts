// What counts as a dependency outage (a 503 and a retry) rather than a bug or bad input.
import { describe, it, expect } from 'vitest';
import {
  DependencyDownError,
  isDependencyDown,
  reasonOf,
  describeUrl,
  withStartupRetries,
  StartupError,
} from '../../src/lib/dependency.ts';
import { createLogger } from '../../src/lib/logger.ts';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('dependency outages', () => {
  it('refused, reset and timed-out connections, server shutdowns and our own tag are outages, also when wrapped', () => {
    for (const e of [
      withCode('ECONNREFUSED'),
      withCode('ECONNRESET'),
      withCode('57P01', 'terminating connection due to administrator command'),
      withCode('08006'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('The client is offline'),
      new Error('LOADING Redis is loading the dataset in memory'),
      new DependencyDownError('store'),
      new Error('Failed query: select 1', { cause: withCode('ECONNREFUSED') }),
      new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]),
    ])
      expect(isDependencyDown(e), String(e)).toBe(true);
  });
  it('bad input, constraint violations and bugs are not', () => {
    for (const e of [
      withCode('22P02', 'invalid input syntax for type uuid'),
      withCode('23505', 'duplicate key'),
      withCode('3D000', 'database "x" does not exist'),
      withCode('28P01', 'password authentication failed'),
      new TypeError('cannot read properties of undefined'),
      new Error('WRONGTYPE Operation against a key holding the wrong kind of value'),
      new Error('status: LOADING done'),
      undefined,
      'text',
    ])
      expect(isDependencyDown(e), String(e)).toBe(false);
  });
  it('the log names where, not who: no password in the address, the code as the reason', () => {
    expect(describeUrl('postgres://sesame:hunter2@db.internal:6543/sesame')).toBe('db.internal:6543');
    expect(describeUrl('redis://:pw@cache')).toBe('cache:6379');
    expect(reasonOf(new Error('Failed query', { cause: withCode('ECONNREFUSED') }))).toBe('ECONNREFUSED');
  });
  it('startup retries back off, then give up with a StartupError; other errors are not retried', async () => {
    const waits: number[] = [];
    const lines: string[] = [];
    const logger = createLogger('info', { write: (l) => lines.push(l) });
    const sleep = async (ms: number) => {
      waits.push(ms);
    };
    let n = 0;
    const ok = await withStartupRetries(
      'PostgreSQL at db:5432',
      async () => {
        if (++n < 4) throw withCode('ECONNREFUSED');
        return 'up';
      },
      { logger, limitSeconds: 60, sleep },
    );
    expect(ok).toBe('up');
    expect(waits).toEqual([500, 1000, 2000]);
    expect(lines.filter((l) => l.includes('unreachable; retrying'))).toHaveLength(3);
    await expect(
      withStartupRetries('Redis at r:6379', () => Promise.reject(withCode('ECONNREFUSED')), {
        logger,
        limitSeconds: 0,
        sleep,
      }),
    ).rejects.toThrow(StartupError);
    await expect(
      withStartupRetries(
        'PostgreSQL at db:5432',
        () => Promise.reject(withCode('28P01', 'password authentication failed')),
        {
          logger,
          limitSeconds: 60,
          sleep,
        },
      ),
    ).rejects.toThrow('password authentication failed');
  });
});
