// Recovery addresses in the API's security overview: recognisable to their owner, not readable.
import { describe, it, expect } from 'vitest';
import { maskEmail } from '../../src/lib/mask-email.ts';

describe('maskEmail', () => {
  it('keeps the first letters and the top-level domain only', () => {
    expect(maskEmail('ada.lovelace@example.com')).toBe('a•••@e•••.com');
    expect(maskEmail('x@mail.example.ch')).toBe('x•••@m•••.ch');
    expect(maskEmail('someone@localhost')).toBe('s•••@l•••');
  });
  it('gives nothing away for something that is not an address', () => {
    expect(maskEmail('no-at-sign')).toBe('•••');
    expect(maskEmail('@example.com')).toBe('•••');
  });
});
