// Short-lived state with TTLs and atomic operations: Redis in production, an in-process twin on
// the embedded default. Everything here may expire or be lost without harming durable data.
export interface Store {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Sets only if absent; true when this call set it (atomic). */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Atomic read-and-delete: the primitive for anything single-use. */
  getDel(key: string): Promise<string | null>;
  del(...keys: string[]): Promise<void>;
  /** Atomic increment; the TTL is set when the counter is created (fixed window). */
  incr(key: string, ttlSeconds: number): Promise<number>;
  sAdd(key: string, member: string, ttlSeconds: number): Promise<void>;
  /** set(key) and sAdd(indexKey, key) in one round trip (token writes on the hot path). */
  setIndexed(key: string, value: string, ttlSeconds: number, indexKey: string): Promise<void>;
  sMembers(key: string): Promise<string[]>;
  sRem(key: string, member: string): Promise<void>;
  /** Fire-and-forget messages to every node (Redis pub/sub; in-process on the embedded default). */
  publish(channel: string, message: string): Promise<void>;
  /** Returns the function that stops the subscription. */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  /** Answers when the store does (readiness). */
  ping(): Promise<void>;
  /** False while the connection is known to be down (no I/O): what must not start then, e.g. a
   *  token request that would consume a refresh token and then fail to save the access token. */
  available(): boolean;
  close(): Promise<void>;
}
