// Device requests are signed by the device's own key (generated on the phone, never sent): each
// request carries "Authorization: Device <JWT>" with header {alg: ES256|EdDSA, kid: device id} and
// claims {htm, htu, iat, exp, jti} — the method and URL it is for, at most 60 seconds of life, and a
// jti that is accepted once (SET NX), so a captured request cannot be replayed. The enrolment request
// carries {name, iat, exp, jti}. A JWT without exp, or one that claims a longer life, is refused.
import { decodeProtectedHeader, importJWK, jwtVerify, EmbeddedJWK, type JWK, type JWTPayload } from 'jose';
import type { SecondFactorsRepo, SecondFactorRow } from '../db/repositories/second-factors.ts';
import type { Store } from '../store/store.ts';
import { AppError } from '../errors.ts';
import { required } from '../lib/required.ts';

const DEVICE_ALGS = ['ES256', 'EdDSA'];
const MAX_AGE = 60;
/** Device clocks drift: iat and exp may be this far off ours. */
const CLOCK_TOLERANCE = 30;
const VERIFY = {
  algorithms: DEVICE_ALGS,
  maxTokenAge: MAX_AGE,
  clockTolerance: CLOCK_TOLERANCE,
  requiredClaims: ['iat', 'exp', 'jti'],
};

/** jwtVerify has checked exp is in the future; the life the device gave its JWT must be short too. */
function shortLived(payload: JWTPayload): boolean {
  return typeof payload.exp === 'number' && typeof payload.iat === 'number' && payload.exp - payload.iat <= MAX_AGE;
}

/** Only a P-256 or Ed25519 public key is accepted; private members are dropped, never stored. */
function publicDeviceJwk(jwk: JWK | undefined): Record<string, string> | undefined {
  if (!jwk || typeof jwk !== 'object') return undefined;
  if (jwk.kty === 'EC' && jwk.crv === 'P-256' && typeof jwk.x === 'string' && typeof jwk.y === 'string')
    return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && typeof jwk.x === 'string')
    return { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
  return undefined;
}

export function createDeviceAuth(deps: { repo: SecondFactorsRepo; store: Store }) {
  const { repo, store } = deps;

  async function once(scope: string, jti: unknown) {
    if (typeof jti !== 'string' || jti.length < 8 || jti.length > 128) throw new AppError('device_auth_required');
    if (!(await store.setIfAbsent(`device-jti:${scope}:${jti}`, '1', MAX_AGE * 3)))
      throw new AppError('replayed_request');
  }

  return {
    /** The linked device this request comes from, or an AppError (401) for anything else. */
    async authenticate(method: string, url: string, authorization: string | undefined): Promise<SecondFactorRow> {
      const jwt = /^Device ([\w-]+\.[\w-]+\.[\w-]+)$/.exec(authorization ?? '')?.[1];
      if (!jwt) throw new AppError('device_auth_required');
      let kid: string | undefined;
      try {
        kid = decodeProtectedHeader(jwt).kid;
      } catch {
        throw new AppError('device_auth_required');
      }
      const device = kid ? await repo.findDevice(kid) : undefined;
      // Removed (or never linked): told so, and nothing else happens.
      if (!device) throw new AppError('device_not_linked');
      let payload;
      try {
        const key = await importJWK(
          JSON.parse(required(device.publicKey, 'device key')) as JWK,
          String(device.data.alg ?? 'ES256'),
        );
        ({ payload } = await jwtVerify(jwt, key, VERIFY));
      } catch {
        throw new AppError('device_auth_required');
      }
      if (!shortLived(payload)) throw new AppError('device_auth_required');
      if (payload.htm !== method || payload.htu !== url) throw new AppError('device_auth_required');
      await once(device.id, payload.jti);
      return device;
    },
    /** The enrolment request: signed by the key it carries in its header (proof of possession). */
    async verifyEnrolment(jwt: string): Promise<{ name: string; publicJwk: Record<string, string>; alg: string }> {
      try {
        const { payload, protectedHeader } = await jwtVerify(jwt, EmbeddedJWK, VERIFY);
        const publicJwk = publicDeviceJwk(protectedHeader.jwk);
        const name = typeof payload.name === 'string' ? payload.name.trim() : '';
        if (!shortLived(payload) || !publicJwk || !name || name.length > 60) throw new Error('bad enrolment');
        await once('enrol', payload.jti);
        return { name, publicJwk, alg: protectedHeader.alg };
      } catch (err) {
        if (err instanceof AppError && err.code === 'replayed_request') throw err;
        throw new AppError('enrolment_invalid');
      }
    },
  };
}
export type DeviceAuth = ReturnType<typeof createDeviceAuth>;
