// An organization's "require 2FA": whether an account still has to set up a second factor for one
// of its organizations. (To be built: the security-console step of issue 12.)
export function createTwoFactorPolicy(_deps: unknown) {
  return {
    /** True while an organization of the account requires 2FA and the account has none. */
    async pending(_accountId: string): Promise<boolean> {
      return false;
    },
  };
}
export type TwoFactorPolicy = ReturnType<typeof createTwoFactorPolicy>;
