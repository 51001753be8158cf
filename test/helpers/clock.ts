// The clock every test server of this file runs on (deps.ts takes it as `clock`): real time plus an
// offset that tests move forward instead of sleeping. Test code that computes what the server will
// compute (TOTP codes) reads the same clock.
import type { Clock } from '../../src/lib/clock.ts';

let offset = 0;

export const testClock: Clock & { advance(ms: number): void } = {
  now: () => Date.now() + offset,
  /** Moves time forward only: what the server spent (TOTP steps) stays spent. */
  advance(ms: number) {
    if (ms < 0) throw new Error('the test clock only moves forward');
    offset += ms;
  },
};
