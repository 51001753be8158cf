// When a relying party accepts nothing less than multi-factor (OpenID Connect Core §3.1.2.1, §5.5.1.1).
import { describe, it, expect } from 'vitest';
import { mfaRequested, ACR_MFA, ACR_PASSWORD } from '../../src/oidc/acr.ts';

const claims = (acr: unknown) => JSON.stringify({ id_token: { acr } });

describe('mfaRequested', () => {
  it('acr_values naming only the multi-factor level', () => {
    expect(mfaRequested({ acr_values: ACR_MFA })).toBe(true);
    expect(mfaRequested({ acr_values: `  ${ACR_MFA}  ${ACR_MFA} ` })).toBe(true);
  });
  it('acr_values that also accept the password level do not require it', () => {
    expect(mfaRequested({ acr_values: `${ACR_PASSWORD} ${ACR_MFA}` })).toBe(false);
    expect(mfaRequested({ acr_values: ACR_PASSWORD })).toBe(false);
    expect(mfaRequested({ acr_values: 'urn:other:loa:3' })).toBe(false);
    expect(mfaRequested({ acr_values: '' })).toBe(false);
    expect(mfaRequested({})).toBe(false);
  });
  it('an essential acr claim whose value(s) are all the multi-factor level', () => {
    expect(mfaRequested({ claims: claims({ essential: true, value: ACR_MFA }) })).toBe(true);
    expect(mfaRequested({ claims: claims({ essential: true, values: [ACR_MFA] }) })).toBe(true);
  });
  it('a voluntary acr claim, or one that also accepts less, or with no value, does not', () => {
    expect(mfaRequested({ claims: claims({ value: ACR_MFA }) })).toBe(false);
    expect(mfaRequested({ claims: claims({ essential: false, values: [ACR_MFA] }) })).toBe(false);
    expect(mfaRequested({ claims: claims({ essential: true, values: [ACR_MFA, ACR_PASSWORD] }) })).toBe(false);
    expect(mfaRequested({ claims: claims({ essential: true }) })).toBe(false);
    expect(mfaRequested({ claims: claims({ essential: true, values: [] }) })).toBe(false);
    expect(mfaRequested({ claims: JSON.stringify({ userinfo: { acr: { essential: true, value: ACR_MFA } } }) })).toBe(
      false,
    );
  });
  it('the claims parameter wins when acr_values would accept less', () => {
    expect(mfaRequested({ acr_values: ACR_PASSWORD, claims: claims({ essential: true, value: ACR_MFA }) })).toBe(true);
  });
  it('malformed claims are no request (and no exception)', () => {
    expect(mfaRequested({ claims: '{"id_token":' })).toBe(false);
    expect(mfaRequested({ claims: 'null' })).toBe(false);
    expect(mfaRequested({ claims: { id_token: { acr: { essential: true, value: ACR_MFA } } } })).toBe(false);
  });
});
