// The time, injectable: TOTP, push challenges and lockout read it from here so tests can move it
// instead of sleeping.
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
