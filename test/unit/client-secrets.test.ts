// Which client secrets /token accepts: the current one, and the previous one until its grace ends.
import { describe, it, expect } from 'vitest';
import { acceptedSecretHashes, PREVIOUS_SECRET, PREVIOUS_SECRET_UNTIL } from '../../src/oidc/clients.ts';

describe('acceptedSecretHashes', () => {
  const now = 1_800_000_000_000;
  it('the current secret alone when there is no previous one', () => {
    expect(acceptedSecretHashes({ clientSecret: 'hmac-sha256:new' }, now)).toEqual(['hmac-sha256:new']);
  });
  it('the previous secret too, until the moment its grace period ends (then never again)', () => {
    const client = {
      clientSecret: 'hmac-sha256:new',
      [PREVIOUS_SECRET]: 'hmac-sha256:old',
      [PREVIOUS_SECRET_UNTIL]: now + 1,
    };
    expect(acceptedSecretHashes(client, now)).toEqual(['hmac-sha256:new', 'hmac-sha256:old']);
    expect(acceptedSecretHashes(client, now + 1)).toEqual(['hmac-sha256:new']);
  });
  it('nothing for a client without a secret, whatever else it carries', () => {
    expect(acceptedSecretHashes({ [PREVIOUS_SECRET]: 'hmac-sha256:old' }, now)).toEqual([]);
  });
});
