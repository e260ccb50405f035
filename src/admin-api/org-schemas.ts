/** The bodies the organization routes take (admin-api/orgs.ts), also described in the OpenAPI document. */
import * as z from 'zod';
import { CLIENT_KINDS } from '../core/config.ts';
import { LimitSettingsSchema } from '../core/limit-settings.ts';
import { StartingAccessSchema } from '../identity/new-member-access.ts';

export const RoleSchema = z.strictObject({ role: z.enum(['owner', 'admin', 'member']) });

/** Org settings as an admin may set them; lifetimes are checked against the server's bounds too. */
export const OrgSettingsSchema = z.strictObject({
  clientKinds: z.array(z.enum(CLIENT_KINDS)).min(1).optional(),
  clientAllowList: z.array(z.string().min(1).max(2000)).max(500).nullable().optional(),
  /** "Admin approval": only allow-listed clients act for the org; members ask for others from the consent page (README "Console"). */
  clientApproval: z.boolean().optional(),
  accessTokenTtl: z.int().min(60).optional(),
  sessionMaxTtl: z.int().min(300).optional(),
  /** Rate limits and quotas, at most the server's; a key's or a client's at most the organization's (400 limit_too_loose). */
  limits: LimitSettingsSchema.optional(),
  /** Members must sign in with a second factor; one without it enrols at the next sign-in (README "MFA"). */
  requireMfa: z.boolean().optional(),
  /** Default access for new members: a workspace or project role given on joining (invitation, SSO, SCIM), or null for none. */
  newMemberAccess: StartingAccessSchema.nullable().optional(),
});
export const OrgUpdateSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  /** Replaces the settings as a whole (absent keys fall back to the server's defaults). */
  settings: OrgSettingsSchema.optional(),
});
