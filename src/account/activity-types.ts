// The activity log's event types (stable codes, translated under activity.types.*) and the groups
// the filter offers.
export const ACTIVITY_GROUPS = {
  sign_in: ['sign_in', 'sign_in_failed', 'second_factor_failed', 'locked', 'unlocked'],
  security: [
    'password_changed',
    'password_reset',
    'email_change_requested',
    'email_changed',
    'recovery_changed',
    'profile_changed',
    'protection_changed',
    'mfa_enabled',
    'factor_added',
    'factor_removed',
    'factor_renamed',
    'mfa_disabled',
    'default_changed',
    'backup_codes_regenerated',
    'session_ended',
    'api_token_created',
    'api_token_revoked',
    'api_token_deactivated',
    'app_password_created',
    'app_password_revoked',
    'app_password_new_network',
    'sync_sign_in_failed',
    'sync_locked',
  ],
  applications: [
    'app_created',
    'app_updated',
    'app_secret_rotated',
    'app_deleted',
    'app_access_granted',
    'app_access_revoked',
    'app_members_only_changed',
  ],
  // Written to the log of the member an action concerns and of the admin who did it; details name
  // the organization (details.organization), the other person (details.member, details.by) and, for
  // a role change, details.from and details.to.
  organizations: [
    'org_created',
    'org_updated',
    'org_deleted',
    'org_invited',
    'org_invitation_revoked',
    'org_joined',
    'org_left',
    'org_member_removed',
    'org_role_changed',
    'org_member_blocked',
    'org_member_unblocked',
    'org_member_unlocked',
    'org_security_alert',
    'org_2fa_required',
    'org_2fa_not_required',
    'org_team_created',
    'org_team_deleted',
    'org_team_member_added',
    'org_team_member_removed',
  ],
} as const;

export type ActivityGroup = keyof typeof ACTIVITY_GROUPS;
export type ActivityType = (typeof ACTIVITY_GROUPS)[ActivityGroup][number];
export const ACTIVITY_TYPES: readonly ActivityType[] = Object.values(ACTIVITY_GROUPS).flat();

/** The type filter's value for a whole group: distinct from any one type's ("sign_in"). */
export const groupFilter = (group: ActivityGroup) => `all:${group}`;

/** Every value the type filter takes, and the types each stands for. */
export const ACTIVITY_FILTERS: ReadonlyMap<string, readonly ActivityType[]> = new Map<string, readonly ActivityType[]>([
  ...ACTIVITY_TYPES.map((t) => [t, [t]] as const),
  ...(Object.keys(ACTIVITY_GROUPS) as ActivityGroup[]).map((g) => [groupFilter(g), ACTIVITY_GROUPS[g]] as const),
]);
