// A software security key for protocol tests: a P-256 key pair that answers WebAuthn registration
// ("none" attestation) and authentication exactly as a real authenticator would, byte for byte
// (W3C WebAuthn §6.1 authenticator data, §6.5 attestation object), so the server's checks of origin,
// RP ID, challenge, signature and counter can be attacked one at a time.
import crypto from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

const sha256 = (data: string | Buffer) => crypto.createHash('sha256').update(data).digest();
const b64u = (b: Buffer | Uint8Array) => Buffer.from(b).toString('base64url');
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

export class SoftAuthenticator {
  private readonly keys = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  readonly credentialId = crypto.randomBytes(16);
  counter = 0;

  get id(): string {
    return b64u(this.credentialId);
  }

  private cosePublicKey(): Uint8Array {
    const jwk = this.keys.publicKey.export({ format: 'jwk' });
    // RFC 9053 §7.1.1: kty 2 (EC2), alg -7 (ES256), crv 1 (P-256), x, y.
    return isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]),
    );
  }

  register(options: { challenge: string; rp: { id?: string } }, origin: string) {
    const clientDataJSON = Buffer.from(
      JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin, crossOrigin: false }),
    );
    const credId = this.credentialId;
    const authData = Buffer.concat([
      sha256(options.rp.id!),
      Buffer.from([0x41]) /* UP | AT */,
      u32(this.counter),
      Buffer.alloc(16) /* AAGUID */,
      Buffer.from([credId.length >> 8, credId.length & 0xff]),
      credId,
      Buffer.from(this.cosePublicKey()),
    ]);
    const attestationObject = isoCBOR.encode(
      new Map<string, unknown>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', new Uint8Array(authData)],
      ]) as never,
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      response: {
        clientDataJSON: b64u(clientDataJSON),
        attestationObject: b64u(attestationObject),
        transports: ['usb'],
      },
      clientExtensionResults: {},
    };
  }

  /** Signs an assertion; `over` forges one field at a time (origin is a parameter already). */
  assert(
    options: { challenge: string; rpId?: string },
    origin: string,
    over: { rpId?: string; counter?: number; challenge?: string } = {},
  ) {
    this.counter = over.counter ?? this.counter + 1;
    const clientDataJSON = Buffer.from(
      JSON.stringify({
        type: 'webauthn.get',
        challenge: over.challenge ?? options.challenge,
        origin,
        crossOrigin: false,
      }),
    );
    const authenticatorData = Buffer.concat([
      sha256(over.rpId ?? options.rpId!),
      Buffer.from([0x01]) /* UP */,
      u32(this.counter),
    ]);
    const signature = crypto.sign(
      'sha256',
      Buffer.concat([authenticatorData, sha256(clientDataJSON)]),
      this.keys.privateKey,
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authenticatorData),
        signature: b64u(signature),
      },
      clientExtensionResults: {},
    };
  }
}
