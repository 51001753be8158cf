// One error class with stable codes. The message shown to users comes from the locale catalogs
// (key `errors.<code>`), never from the exception, so nothing internal leaks.
export type ErrorCode =
  | 'invalid_input'
  | 'invalid_credentials'
  | 'csrf_failed'
  | 'rate_limited'
  | 'not_found'
  | 'forbidden'
  | 'login_required'
  | 'email_taken'
  | 'weak_password'
  | 'common_password'
  | 'link_invalid'
  | 'session_expired'
  | 'device_auth_required'
  | 'device_not_linked'
  | 'replayed_request'
  | 'enrolment_invalid'
  | 'challenge_not_found'
  | 'challenge_expired'
  | 'already_decided'
  | 'wrong_number'
  | 'internal';

const STATUS: Record<ErrorCode, number> = {
  invalid_input: 400,
  invalid_credentials: 401,
  csrf_failed: 403,
  rate_limited: 429,
  not_found: 404,
  forbidden: 403,
  login_required: 401,
  email_taken: 409,
  weak_password: 400,
  common_password: 400,
  link_invalid: 400,
  session_expired: 400,
  device_auth_required: 401,
  device_not_linked: 401,
  replayed_request: 401,
  enrolment_invalid: 400,
  challenge_not_found: 404,
  challenge_expired: 410,
  already_decided: 409,
  wrong_number: 400,
  internal: 500,
};

export class AppError extends Error {
  readonly status: number;
  constructor(readonly code: ErrorCode, readonly details?: Record<string, unknown>) {
    super(code);
    this.name = 'AppError';
    this.status = STATUS[code];
  }
}

export function assertThat(condition: unknown, code: ErrorCode, details?: Record<string, unknown>): asserts condition {
  if (!condition) throw new AppError(code, details);
}
