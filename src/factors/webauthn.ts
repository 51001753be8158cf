// Security keys (WebAuthn Level 2, e.g. YubiKey) through @simplewebauthn/server. It checks the
// origin, the RP ID hash, the signature and the challenge; Sesame makes each challenge single-use
// and bound to its ceremony (GETDEL of a key naming the login or the account), and keeps the
// signature counter moving forward only (WebAuthn §6.1.1: a counter going back means a cloned key).
import net from 'node:net';
import { z } from 'zod';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import type { SecondFactorsRepo, SecondFactorRow } from '../db/repositories/second-factors.ts';
import type { Store } from '../store/store.ts';
import { hmac } from '../lib/crypto.ts';
import { oneChoiceFor, type SecondFactor, type Ceremony } from './second-factor.ts';
import { required } from '../lib/required.ts';
import { AppError } from '../errors.ts';

const CHALLENGE_TTL = 5 * 60;

// The browser's PublicKeyCredential.toJSON(): validated for shape here, for meaning by the library.
const b64u = z
  .string()
  .regex(/^[\w-]*$/)
  .max(16_384);
const CredentialJSON = z.object({
  id: b64u.min(1),
  rawId: b64u.min(1),
  type: z.literal('public-key'),
  response: z.record(z.string(), z.unknown()),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.string().optional(),
});

function parseCredential(raw: unknown): z.infer<typeof CredentialJSON> | undefined {
  let value = raw;
  if (typeof raw === 'string') {
    if (raw.length > 65_536) return undefined;
    try {
      value = JSON.parse(raw);
    } catch {
      return undefined;
    }
  }
  const parsed = CredentialJSON.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** The library throws for every refused response (wrong origin, RP ID, challenge, signature,
 *  counter); to Sesame they are all one answer: not verified. */
function refusedAsUndefined<T>(verification: Promise<T>): Promise<T | undefined> {
  return verification.catch(() => undefined);
}

export function createWebauthnFactor(deps: {
  repo: SecondFactorsRepo;
  store: Store;
  config: { issuer: string; webauthnRpName: string; hashKey: Buffer };
}) {
  const { repo, store } = deps;
  const origin = new URL(deps.config.issuer).origin;
  const rpID = new URL(deps.config.issuer).hostname;
  // Browsers accept only a domain name as relying-party ID (WebAuthn §5.1.4.1, "a valid domain
  // string"): with an IP-address issuer every ceremony fails in the browser, so none is offered.
  const available = net.isIP(rpID.replace(/^\[|\]$/g, '')) === 0;
  const requireAvailable = () => {
    if (!available) throw new AppError('webauthn_unavailable');
  };
  const loginKey = (c: Ceremony) => `webauthn-login:${c.key}:${c.accountId}`;
  const registrationKey = (accountId: string) => `webauthn-register:${accountId}`;
  // A stable, opaque user handle: no account id or email is handed to the authenticator.
  const userHandle = (accountId: string) =>
    new Uint8Array(Buffer.from(hmac(deps.config.hashKey, `webauthn-user:${accountId}`), 'base64url'));
  const transportsOf = (row: SecondFactorRow) =>
    Array.isArray(row.data.transports) ? (row.data.transports as string[]) : undefined;

  const factor = {
    id: 'webauthn',
    amr: 'hwk', // RFC 8176 §2: proof-of-possession of a hardware-secured key
    async choices(_accountId: string, rows: SecondFactorRow[]) {
      return oneChoiceFor(rows, 'webauthn', 'webauthn');
    },
    async challenge(c) {
      const keys = await repo.list(c.accountId, 'webauthn');
      if (!keys.length) return { ok: false, reason: 'unavailable' };
      const options: PublicKeyCredentialRequestOptionsJSON = await generateAuthenticationOptions({
        rpID,
        allowCredentials: keys.map((k) => ({
          id: required(k.credentialId, 'credential id'),
          transports: transportsOf(k),
        })),
        userVerification: 'discouraged',
        timeout: CHALLENGE_TTL * 1000,
      });
      await store.set(loginKey(c), options.challenge, CHALLENGE_TTL);
      return { ok: true, view: { options } };
    },
    async verify(c, answer) {
      const credential = parseCredential(answer.credential);
      // The challenge is spent by this attempt whatever its outcome.
      const expectedChallenge = await store.getDel(loginKey(c));
      if (!credential || !expectedChallenge) return false;
      const row = await repo.findByCredentialId(c.accountId, credential.id);
      if (!row) return false;
      const result = await refusedAsUndefined(
        verifyAuthenticationResponse({
          response: credential as unknown as AuthenticationResponseJSON,
          expectedChallenge,
          expectedOrigin: origin,
          expectedRPID: rpID,
          credential: {
            id: required(row.credentialId, 'credential id'),
            publicKey: new Uint8Array(Buffer.from(required(row.publicKey, 'public key'), 'base64url')),
            counter: row.signCount,
            transports: transportsOf(row),
          },
          requireUserVerification: false,
        }),
      );
      if (!result?.verified) return false;
      return repo.advanceSignCount(row.id, row.signCount, result.authenticationInfo.newCounter);
    },
  } satisfies SecondFactor;

  return {
    ...factor,
    /** False when the issuer's host is an IP address: security keys cannot work there. */
    available,
    async beginRegistration(account: {
      id: string;
      email: string;
      name: string;
    }): Promise<PublicKeyCredentialCreationOptionsJSON> {
      requireAvailable();
      const existing = await repo.list(account.id, 'webauthn');
      const options = await generateRegistrationOptions({
        rpName: deps.config.webauthnRpName,
        rpID,
        userName: account.email,
        userDisplayName: account.name,
        userID: userHandle(account.id),
        attestationType: 'none',
        excludeCredentials: existing.map((k) => ({
          id: required(k.credentialId, 'credential id'),
          transports: transportsOf(k),
        })),
        authenticatorSelection: { residentKey: 'discouraged', userVerification: 'discouraged' },
        preferredAuthenticatorType: 'securityKey',
        timeout: CHALLENGE_TTL * 1000,
      });
      await store.set(registrationKey(account.id), options.challenge, CHALLENGE_TTL);
      return options;
    },
    async finishRegistration(accountId: string, name: string, raw: unknown): Promise<SecondFactorRow | undefined> {
      requireAvailable();
      const credential = parseCredential(raw);
      const expectedChallenge = await store.getDel(registrationKey(accountId));
      if (!credential || !expectedChallenge) return undefined;
      const result = await refusedAsUndefined(
        verifyRegistrationResponse({
          response: credential as unknown as RegistrationResponseJSON,
          expectedChallenge,
          expectedOrigin: origin,
          expectedRPID: rpID,
          requireUserVerification: false,
        }),
      );
      if (!result?.verified) return undefined;
      const info = result.registrationInfo;
      return repo.create({
        accountId,
        type: 'webauthn',
        name,
        credentialId: info.credential.id,
        publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
        signCount: info.credential.counter,
        data: { transports: info.credential.transports ?? [], aaguid: info.aaguid, backedUp: info.credentialBackedUp },
      });
    },
  };
}
export type WebauthnFactor = ReturnType<typeof createWebauthnFactor>;
