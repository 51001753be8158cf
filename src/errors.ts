// One error type, one list of every code a user or a client can see. Services and routes throw
// AppError; only the error handler (http/error-handler.ts) renders it: the form the user was filling
// in again (with their input), the page a code has (expired, link invalid), or JSON by Accept. The
// message comes from the locale catalogs (`errors.<code>`), never from the exception, so nothing
// internal leaks, and the wording stays vague where precision would tell an attacker something.
const CODES = {
  // Input and forms
  invalid_input: 400,
  invalid_characters: 400,
  csrf_failed: 403,
  not_found: 404,
  method_not_allowed: 405,
  rate_limited: 429,
  // Signing in and confirming it is you
  invalid_credentials: 401,
  wrong_password: 401,
  invalid_code: 401,
  session_expired: 400,
  link_invalid: 400,
  // Choosing a password or an address
  weak_password: 400,
  common_password: 400,
  personal_password: 400,
  passwords_differ: 400,
  emails_differ: 400,
  email_same: 400,
  email_taken: 409,
  email_is_recovery: 400,
  recovery_same_as_login: 400,
  confirm_delete: 400,
  // A destructive change, confirmed on its own page (a new client secret, new backup codes, deleting an application)
  confirm_required: 400,
  confirm_app_name: 400,
  // Second factors
  sms_unavailable: 503,
  phone_invalid: 400,
  phone_country: 400,
  phone_not_mobile: 400,
  webauthn_failed: 400,
  webauthn_unavailable: 409,
  name_required: 400,
  code_expired: 400,
  confirm_disable: 400,
  /** App passwords are made only with 2FA on (app-passwords/create.ts). */
  two_factor_required: 409,
  // The kAuth device API
  device_auth_required: 401,
  device_not_linked: 401,
  replayed_request: 401,
  enrolment_invalid: 400,
  challenge_not_found: 404,
  challenge_expired: 410,
  already_decided: 409,
  wrong_number: 400,
  // Organizations
  /** The actor's role in the organization does not allow it (organizations/policy.ts). */
  forbidden: 403,
  /** The last legal representative cannot be removed, demoted or leave. */
  last_legal_rep: 409,
  already_member: 409,
  /** Signed in with another address than the invitation's. */
  invitation_other_email: 403,
  /** Still holds other members or applications. */
  organization_not_empty: 409,
  /** Removing a member is confirmed by typing your own email. */
  confirm_own_email: 400,
  /** Deleting an account that is the last legal representative of a living organization. */
  account_is_last_legal_rep: 409,
  team_name_taken: 409,
  /** Every account stays in at least one organization: its only one cannot be left or deleted. */
  only_organization: 409,
  // The REST API (src/api/): its own codes, in the Infomaniak envelope; the codes above appear there too
  /** Input that fails the route's schema; the envelope lists each field and its problem. */
  validation_failed: 400,
  /** No bearer token, or one that is unknown, revoked, expired or deactivated (never says which). */
  not_authorized: 401,
  /** The token is valid but lacks every scope the route accepts. */
  insufficient_scope: 403,
  /** A body that is not JSON (Content-Type), or JSON that does not parse. */
  invalid_content_type: 415,
  invalid_json: 400,
  /** Well-formed but refused by a rule (an expiry in the past, scopes the caller does not hold). */
  unprocessable: 422,
  // Ours
  /** PostgreSQL or Redis did not answer: retry (Retry-After). */
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof CODES;
export const ERROR_CODES = Object.keys(CODES) as ErrorCode[];

export function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && Object.hasOwn(CODES, v);
}

export interface ErrorDetails {
  /** Form fields the error is about (highlighted when the form is shown again). */
  fields?: string[];
  /** Per-field problems (a code per field), for forms that show them next to each field. */
  fieldErrors?: Record<string, string>;
  /** A different status where the same code means something else on one page (a wrong code while
   *  enrolling is bad input, 400; at sign-in it is a refused credential, 401). */
  status?: number;
}

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly details: ErrorDetails = {},
  ) {
    super(code);
    this.name = 'AppError';
    this.status = details.status ?? CODES[code];
  }
}
