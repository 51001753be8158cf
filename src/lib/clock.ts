// The time, injectable: TOTP, push challenges and lockout read it from here so tests can move it
// instead of sleeping.
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Waits for `work`, but `ms` at most (a shutdown step must not hold the exit); its rejection still
 *  reaches the caller. The timer keeps nothing alive and is cleared when `work` is first. */
export async function atMost(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  try {
    await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
