// Who may sign in to an organization's application: a blocked member to none of them, an outsider
// not to a members-only one. (To be built: the applications step of issue 12.)
export function createAccessCheck(_deps: unknown) {
  return {
    /** Why `accountId` may not sign in to `clientId`, or undefined when it may. */
    async refusal(_accountId: string, _clientId: string): Promise<'blocked' | 'not_member' | undefined> {
      return undefined;
    },
  };
}
export type AccessCheck = ReturnType<typeof createAccessCheck>;
