// kAuth push approval: a linked phone app approves a sign-in with YES and the number shown on the
// sign-in page (number matching, against blind "approve" taps), or answers offline with a 30-second
// code from the seed it received when linked. Challenges live in the store: single-use, about two
// minutes, the decision written once (SET NX) and spent once by the sign-in (GETDEL).
import crypto from 'node:crypto';
import { generateSecret } from 'otplib';
import type { SecondFactorsRepo, SecondFactorRow } from '../db/repositories/second-factors.ts';
import type { Store } from '../store/store.ts';
import { CREDENTIAL_WINDOW_SECONDS, type RateLimiter } from '../http/rate-limit.ts';
import type { FailureKind } from '../db/repositories/accounts.ts';
import type { PushTransport, PublicChallenge } from './push-transport.ts';
import type { Clock } from '../lib/clock.ts';
import { encrypt, decrypt, hmac, randomToken } from '../lib/crypto.ts';
import { describeBrowser, describePlace } from '../lib/user-agent.ts';
import { matchTotpStep, normalizeCode } from '../factors/totp.ts';
import { oneChoiceFor, type SecondFactor, type Ceremony, type PollStatus } from '../factors/second-factor.ts';
import { required } from '../lib/required.ts';

const ENROL_TTL = 10 * 60;

interface Challenge {
  id: string;
  accountId: string;
  number: number;
  app: string;
  browser: string;
  ip: string;
  place: string;
  deviceIds: string[];
  createdAt: number;
  expiresAt: number;
}

export type Decision = 'approved' | 'wrong_number' | 'denied';
export type DecideOutcome = Decision | 'not_found' | 'expired' | 'already_decided';

export function createPushFactor(deps: {
  repo: SecondFactorsRepo;
  store: Store;
  limiter: RateLimiter;
  /** A deny counts as a failed second-factor answer (lockout). */
  failures: { countFailure(kind: FailureKind, accountId: string): Promise<void> };
  transport: PushTransport;
  config: {
    encryptionKey: Buffer;
    hashKey: Buffer;
    issuer: string;
    pushChallengeSeconds: number;
    rateLimits: { pushPerAccount: number };
  };
  /** A deny marked "this wasn't me": the account's owner is told at once. */
  onNotMe(accountId: string, challenge: PublicChallenge): Promise<void>;
  clock: Clock;
}) {
  const { repo, store, transport, config } = deps;
  const now = () => deps.clock.now();
  const ttl = config.pushChallengeSeconds;
  const keep = ttl + 120; // records outlive the challenge a little, so "expired" can be told apart from "unknown"
  const challengeKey = (id: string) => `push-challenge:${id}`;
  const decisionKey = (id: string) => `push-decision:${id}`;
  const loginKey = (c: Ceremony) => `push-login:${c.key}:${c.accountId}`;
  const pendingKey = (deviceId: string) => `push-pending:${deviceId}`;

  const publicView = (ch: Challenge): PublicChallenge => ({
    id: ch.id,
    app: ch.app,
    browser: ch.browser,
    ip: ch.ip,
    place: ch.place,
    created_at: new Date(ch.createdAt).toISOString(),
    expires_at: new Date(ch.expiresAt).toISOString(),
  });
  async function load(id: string | null): Promise<Challenge | undefined> {
    if (!id) return undefined;
    const raw = await store.get(challengeKey(id));
    return raw ? (JSON.parse(raw) as Challenge) : undefined;
  }
  const view = (ch: Challenge, devices: SecondFactorRow[]) => ({
    number: ch.number,
    expiresAt: ch.expiresAt,
    devices: devices.map((d) => d.name),
  });

  async function status(ch: Challenge | undefined): Promise<PollStatus> {
    if (!ch) return 'expired';
    const decision = await store.get(decisionKey(ch.id));
    if (decision === 'approved' || decision === 'spent') return 'approved';
    if (decision) return 'denied';
    return ch.expiresAt <= now() ? 'expired' : 'pending';
  }

  async function send(c: Ceremony, devices: SecondFactorRow[]) {
    // Against approval fatigue: a few requests per account per 15 minutes, whoever asks.
    if (
      !(await deps.limiter.hit(
        'push-account',
        c.accountId,
        config.rateLimits.pushPerAccount,
        CREDENTIAL_WINDOW_SECONDS,
      ))
    )
      return undefined;
    const ch: Challenge = {
      id: crypto.randomBytes(16).toString('hex'), // hex: safe as a command-line argument (never starts with '-')
      accountId: c.accountId,
      number: crypto.randomInt(10, 100),
      app: c.app ?? 'Sesame',
      browser: describeBrowser(c.userAgent),
      ip: c.ip,
      place: describePlace(c.ip),
      deviceIds: devices.map((d) => d.id),
      createdAt: now(),
      expiresAt: now() + ttl * 1000,
    };
    await store.set(challengeKey(ch.id), JSON.stringify(ch), keep);
    await store.set(loginKey(c), ch.id, keep);
    for (const d of devices) {
      await store.sAdd(pendingKey(d.id), ch.id, keep);
      await transport.deliver(d.id, { type: 'challenge', challenge: publicView(ch) });
    }
    return ch;
  }

  async function enrolmentStatus(
    accountId: string,
    enrolmentId: string,
  ): Promise<{ status: 'pending' | 'linked' | 'expired'; factorId?: string }> {
    const raw = /^[\w-]{10,30}$/.test(enrolmentId) ? await store.get(`push-enrolment:${enrolmentId}`) : null;
    const rec = raw
      ? (JSON.parse(raw) as { accountId: string; status: 'pending' | 'linked'; factorId?: string })
      : undefined;
    if (!rec || rec.accountId !== accountId) return { status: 'expired' };
    return { status: rec.status, factorId: rec.factorId };
  }

  const factor = {
    id: 'push',
    amr: 'swk',
    // RFC 8176: approval signed by the device's key is "swk" (software-secured key), and with the
    // password it is "mfa"; the app's offline code is a one-time password, "otp".
    amrFor: (answer: { code?: string }) => (answer.code ? ['otp'] : ['swk', 'mfa']),
    async choices(_accountId: string, rows: SecondFactorRow[]) {
      return oneChoiceFor(rows, 'push', 'push');
    },
    async challenge(c, opts) {
      const devices = await repo.list(c.accountId, 'push');
      if (!devices.length) return { ok: false, reason: 'unavailable' };
      const current = await load(await store.get(loginKey(c)));
      const state = await status(current);
      if (current && (opts.mode === 'retry' || (opts.mode === 'open' && state === 'pending'))) {
        return { ok: true, view: { ...view(current, devices), state } };
      }
      const ch = await send(c, devices);
      if (!ch) return { ok: false, reason: 'rate_limited' };
      return { ok: true, view: { ...view(ch, devices), state: 'pending' } };
    },
    async poll(c) {
      return status(await load(await store.get(loginKey(c))));
    },
    async verify(c, answer) {
      if (answer.code !== undefined && answer.code !== '') {
        const code = normalizeCode(answer.code);
        for (const row of await repo.list(c.accountId, 'push')) {
          const step = await matchTotpStep(
            decrypt(config.encryptionKey, required(row.secret, 'device seed')),
            code,
            now(),
          );
          if (step !== undefined && (await repo.advanceTotpStep(row.id, step))) return true;
        }
        return false;
      }
      const id = await store.get(loginKey(c));
      if (!id || (await store.get(decisionKey(id))) !== 'approved') return false;
      // The approval is spent by this sign-in: GETDEL, so it can finish one login only.
      if ((await store.getDel(decisionKey(id))) !== 'approved') return false;
      await store.set(decisionKey(id), 'spent', keep);
      await store.del(loginKey(c));
      return true;
    },
  } satisfies SecondFactor;

  return {
    ...factor,

    /** A single-use enrolment link for the QR code on the Security page (10 minutes). */
    async beginEnrolment(accountId: string): Promise<{ url: string; enrolmentId: string }> {
      const token = randomToken(32);
      const enrolmentId = randomToken(12);
      await store.set(
        `push-enrol:${hmac(config.hashKey, token)}`,
        JSON.stringify({ accountId, enrolmentId }),
        ENROL_TTL,
      );
      await store.set(`push-enrolment:${enrolmentId}`, JSON.stringify({ accountId, status: 'pending' }), ENROL_TTL);
      return { url: `${config.issuer}/1/devices/enrol/${token}`, enrolmentId };
    },
    /** The device's side of linking: spends the token, stores the device's public key, returns the seed. */
    async completeEnrolment(token: string, device: { name: string; publicJwk: Record<string, string>; alg: string }) {
      if (!/^[\w-]{40,64}$/.test(token)) return undefined;
      const raw = await store.getDel(`push-enrol:${hmac(config.hashKey, token)}`);
      if (!raw) return undefined;
      const { accountId, enrolmentId } = JSON.parse(raw) as { accountId: string; enrolmentId: string };
      const seed = generateSecret({ length: 20 });
      const row = await repo.create({
        accountId,
        type: 'push',
        name: device.name,
        secret: encrypt(config.encryptionKey, seed),
        publicKey: JSON.stringify(device.publicJwk),
        data: { alg: device.alg },
      });
      if (!row) return undefined;
      return { row, seed, enrolmentId };
    },
    enrolmentStatus,
    async markLinked(accountId: string, enrolmentId: string, factorId: string, backupCodes?: string[]) {
      await store.set(
        `push-enrolment:${enrolmentId}`,
        JSON.stringify({ accountId, status: 'linked', factorId }),
        ENROL_TTL,
      );
      if (backupCodes)
        await store.set(
          `push-enrolment-codes:${enrolmentId}`,
          encrypt(config.encryptionKey, JSON.stringify(backupCodes)),
          ENROL_TTL,
        );
    },
    /** The backup codes made when this link turned 2FA on: handed to the user's browser once. */
    async takeEnrolmentCodes(accountId: string, enrolmentId: string): Promise<string[] | undefined> {
      if ((await enrolmentStatus(accountId, enrolmentId)).status !== 'linked') return undefined;
      const boxed = await store.getDel(`push-enrolment-codes:${enrolmentId}`);
      return boxed ? (JSON.parse(decrypt(config.encryptionKey, boxed)) as string[]) : undefined;
    },

    /** What a device may answer: requests for its account, still open, without the number. */
    async pendingFor(device: SecondFactorRow): Promise<PublicChallenge[]> {
      const out: PublicChallenge[] = [];
      for (const id of await store.sMembers(pendingKey(device.id))) {
        const ch = await load(id);
        if (!ch || ch.accountId !== device.accountId || (await status(ch)) !== 'pending') {
          await store.sRem(pendingKey(device.id), id);
          continue;
        }
        out.push(publicView(ch));
      }
      return out.sort((a, b) => a.created_at.localeCompare(b.created_at));
    },
    /** The device's YES (with the number) or NO. Written once: the first decision stands. A wrong
     *  number is a NO (one try per request: guessing a 2-digit number is not an option). */
    async decide(
      device: SecondFactorRow,
      id: string,
      answer: { approve: boolean; number?: number; notMe?: boolean },
    ): Promise<DecideOutcome> {
      const ch = /^[\w-]{10,40}$/.test(id) ? await load(id) : undefined;
      if (!ch || ch.accountId !== device.accountId || !ch.deviceIds.includes(device.id)) return 'not_found';
      if (ch.expiresAt <= now()) return 'expired';
      const decision: Decision = !answer.approve ? 'denied' : answer.number === ch.number ? 'approved' : 'wrong_number';
      if (!(await store.setIfAbsent(decisionKey(id), decision === 'approved' ? 'approved' : decision, keep)))
        return 'already_decided';
      for (const d of ch.deviceIds) {
        await store.sRem(pendingKey(d), id);
        if (d !== device.id) await transport.deliver(d, { type: 'decided', id });
      }
      if (decision !== 'approved') {
        await deps.failures.countFailure('second_factor', ch.accountId);
        if (!answer.approve && answer.notMe) await deps.onNotMe(ch.accountId, publicView(ch));
      } else {
        await repo.touch(device.id);
      }
      return decision;
    },
    async removed(deviceId: string) {
      await transport.deliver(deviceId, { type: 'removed' });
      await store.del(pendingKey(deviceId));
    },
  };
}
export type PushFactor = ReturnType<typeof createPushFactor>;
