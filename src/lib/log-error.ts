// How an error reaches the log: its type, its code (PostgreSQL's SQLSTATE, Node's errno name, …), a
// short message and where it was thrown. Never a failed query's SQL and parameters — drizzle's
// DrizzleQueryError carries both in its message, and parameters hold addresses, names and tokens —
// nor the database's `detail` ("Key (email)=(…) already exists").
const MAX_MESSAGE = 300;

interface Logged {
  type: string;
  code?: string;
  message: string;
  stack?: string;
}

function isFailedQuery(err: Error): err is Error & { query: unknown; params: unknown } {
  return 'query' in err && 'params' in err;
}

function codeOf(err: unknown): string | undefined {
  const code = err && typeof err === 'object' && 'code' in err ? err.code : undefined;
  return typeof code === 'string' || typeof code === 'number' ? String(code) : undefined;
}

export function errorForLog(err: unknown): Logged {
  if (!(err instanceof Error)) return { type: typeof err, message: String(err).slice(0, MAX_MESSAGE) };
  const cause = err.cause instanceof Error ? err.cause : undefined;
  const failedQuery = isFailedQuery(err);
  // drizzle's message is the query itself; the driver's error (its cause) says what went wrong.
  const message = err.message.startsWith('Failed query') ? (cause?.message ?? 'query failed') : err.message;
  return {
    type: failedQuery && cause ? `${err.name}: ${cause.name}` : err.name,
    code: codeOf(err) ?? (failedQuery ? codeOf(cause) : undefined),
    message: (message.split('\n')[0] ?? '').slice(0, MAX_MESSAGE),
    // The frames only: the stack's first lines repeat the message.
    stack: err.stack
      ?.split('\n')
      .filter((l) => /^\s+at /.test(l))
      .join('\n'),
  };
}
