// The reference kAuth device: what the phone app does, as a library (tests, demos) and behind
// `sesame device …`. It generates its own ES256 key, links with the single-use enrolment URL, signs
// every request (a fresh JWT per request: method, URL, iat, exp, jti), and computes the offline
// 30-second codes from the seed it received. It speaks only the public device API.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { SignJWT, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { generateSync } from 'otplib';

export interface DeviceState {
  issuer: string;
  api: string;
  deviceId: string;
  name: string;
  account: string;
  alg: 'ES256';
  privateJwk: JWK;
  publicJwk: JWK;
  totp: { secret: string; algorithm: string; digits: number; period: number };
}

export class DeviceApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { error?: string; message?: string },
  ) {
    super(`${status} ${body.error ?? ''}: ${body.message ?? ''}`);
  }
}

async function json(res: Response) {
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { error: 'not_json', message: text.slice(0, 200) };
  }
  if (!res.ok) throw new DeviceApiError(res.status, body as { error?: string; message?: string });
  return body;
}

export class DeviceClient {
  constructor(readonly state: DeviceState) {}

  /** Links a new device: the enrolment URL comes from the QR code on the Security page. */
  static async link(enrolmentUrl: string, name: string): Promise<DeviceClient> {
    const url = new URL(enrolmentUrl);
    if (!/^\/1\/devices\/enrol\/[\w-]+$/.test(url.pathname)) throw new Error('not a Sesame enrolment URL');
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    // Proof of possession: the request is signed by the very key it registers.
    const request = await new SignJWT({ name })
      .setProtectedHeader({ alg: 'ES256', jwk: publicJwk, typ: 'device-enrolment+jwt' })
      .setIssuedAt()
      .setExpirationTime('60s')
      .setJti(crypto.randomUUID())
      .sign(privateKey);
    const body = await json(
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ request }),
      }),
    );
    return new DeviceClient({
      issuer: String(body.issuer),
      api: String(body.api),
      deviceId: String(body.device_id),
      name: String(body.name),
      account: String(body.account),
      alg: 'ES256',
      privateJwk: await exportJWK(privateKey),
      publicJwk,
      totp: body.totp as DeviceState['totp'],
    });
  }

  static load(file: string): DeviceClient {
    return new DeviceClient(JSON.parse(fs.readFileSync(file, 'utf8')) as DeviceState);
  }

  save(file: string) {
    fs.writeFileSync(file, JSON.stringify(this.state, null, 2), { mode: 0o600 });
  }

  /** A signed request, not sent: what `fetch` needs (tests use it to replay one). */
  async sign(method: string, path: string, body?: unknown): Promise<{ url: string; init: RequestInit }> {
    const url = `${this.state.api}${path}`;
    const key = await importJWK(this.state.privateJwk, this.state.alg);
    const jwt = await new SignJWT({ htm: method, htu: url })
      .setProtectedHeader({ alg: this.state.alg, kid: this.state.deviceId, typ: 'device-request+jwt' })
      .setIssuedAt()
      .setExpirationTime('60s')
      .setJti(crypto.randomUUID())
      .sign(key);
    const headers: Record<string, string> = { authorization: `Device ${jwt}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return { url, init: { method, headers, body: body === undefined ? undefined : JSON.stringify(body) } };
  }

  private async call(method: string, path: string, body?: unknown) {
    const { url, init } = await this.sign(method, path, body);
    return json(await fetch(url, init));
  }

  me() {
    return this.call('GET', '/me');
  }
  async pending(): Promise<
    Array<{ id: string; app: string; browser: string; ip: string; place: string; expires_at: string }>
  > {
    return (await this.call('GET', '/challenges')).challenges as never;
  }
  approve(id: string, number: number) {
    return this.call('POST', `/challenges/${encodeURIComponent(id)}`, { decision: 'approve', number });
  }
  deny(id: string, notMe = false) {
    return this.call('POST', `/challenges/${encodeURIComponent(id)}`, { decision: 'deny', not_me: notMe });
  }

  /** The code the app shows offline (RFC 6238 from the seed), `steps` periods from now. */
  code(steps = 0): string {
    const { secret, period, digits } = this.state.totp;
    return generateSync({
      secret,
      period,
      digits: digits as 6,
      algorithm: 'sha1',
      epoch: Math.floor(Date.now() / 1000) + steps * period,
    });
  }

  /** Follows the Server-Sent Events stream until it ends or `signal` aborts; calls onEvent for each. */
  async watch(onEvent: (event: string, data: unknown) => void, signal?: AbortSignal): Promise<void> {
    const { url, init } = await this.sign('GET', '/events');
    const res = await fetch(url, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), accept: 'text/event-stream' },
      signal,
    });
    if (!res.ok || !res.body) await json(res);
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event) onEvent(event, data ? JSON.parse(data) : undefined);
        }
      }
    } catch (err) {
      if (!signal?.aborted) throw err;
    }
  }
}
