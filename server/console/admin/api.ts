/**
 * The admin routes as the console uses them: guards (create, disable, role, password), kiosks
 * (enrol, edit, revoke) and ring groups (save, delete).
 * Built on the same request function as the rest of the console, so refusals arrive as coded
 * ApiErrors and a 401 ends the session everywhere.
 */
import { z } from 'zod';
import { createSend, parse, post, type ApiOptions } from '../api.js';

/** The roles an account can have. */
export const guardRoles = ['guard', 'admin'] as const;
export type GuardRole = (typeof guardRoles)[number];

const GuardAccountSchema = z.object({
  id: z.number(),
  name: z.string(),
  role: z.enum(guardRoles),
  disabled: z.boolean(),
  createdAt: z.number(),
});
/** A guard account as admins list it. */
export type GuardAccount = z.infer<typeof GuardAccountSchema>;

const AdminKioskSchema = z.object({
  id: z.string(),
  name: z.string(),
  online: z.boolean(),
  revoked: z.boolean(),
  ringGroup: z.string().nullable(),
});
/** An enrolled kiosk with the ring group its calls ring. */
export type AdminKiosk = z.infer<typeof AdminKioskSchema>;

const EnrolledKioskSchema = z.object({
  kiosk: z.object({ id: z.string(), name: z.string(), ringGroup: z.string().nullable() }),
  secret: z.string().min(1),
});
/** A newly enrolled kiosk and its secret, which the server never shows again. */
export type EnrolledKiosk = z.infer<typeof EnrolledKioskSchema>;

const RingGroupSchema = z.object({
  id: z.string(),
  name: z.string(),
  guardIds: z.array(z.number()),
});
/** A ring group: the guards a kiosk's calls ring together. */
export type RingGroup = z.infer<typeof RingGroupSchema>;

/** What an admin fills in to create a guard. */
export interface GuardRequest {
  name: string;
  password: string;
  role: GuardRole;
}

/** What an admin fills in to enrol a kiosk. */
export interface KioskRequest {
  id: string;
  name: string;
  ringGroup: string | null;
}

/** What an admin changes of a guard; at least one field. */
export interface GuardChange {
  role?: GuardRole;
  disabled?: boolean;
  password?: string;
}

/** What an admin changes of a kiosk; null takes it out of every ring group. */
export interface KioskChange {
  name?: string;
  ringGroup?: string | null;
}

const KioskRecordSchema = z.object({
  id: z.string(),
  name: z.string(),
  revoked: z.boolean(),
  ringGroup: z.string().nullable(),
});
/** A kiosk as an admin's change left it. */
export type KioskRecord = z.infer<typeof KioskRecordSchema>;

/** The admin part of the server's API. */
export interface AdminApi {
  guards(): Promise<GuardAccount[]>;
  createGuard(request: GuardRequest): Promise<GuardAccount['id']>;
  /** Refused with `conflict` when it would leave no active admin. */
  updateGuard(name: string, change: GuardChange): Promise<GuardAccount>;
  kiosks(): Promise<AdminKiosk[]>;
  enrolKiosk(request: KioskRequest): Promise<EnrolledKiosk>;
  updateKiosk(id: string, change: KioskChange): Promise<KioskRecord>;
  revokeKiosk(id: string): Promise<void>;
  ringGroups(): Promise<RingGroup[]>;
  saveRingGroup(group: RingGroup): Promise<void>;
  /** Refused with `conflict` while a kiosk still rings the group. */
  deleteRingGroup(id: string): Promise<void>;
}

/** A PATCH carrying `body` as JSON. */
function patch(body: unknown): RequestInit {
  return { ...post(body), method: 'PATCH' };
}

const remove: RequestInit = { method: 'DELETE' };

/** Builds the admin API on `fetch`; the server refuses every call of a non-admin. */
export function createAdminApi(options: ApiOptions = {}): AdminApi {
  const send = createSend(options);

  return {
    guards: async () =>
      parse(z.object({ guards: z.array(GuardAccountSchema) }), await send('api/guards')).guards,
    createGuard: async (guard) =>
      parse(
        z.object({ guard: z.object({ id: z.number() }) }),
        await send('api/guards', post(guard)),
      ).guard.id,
    updateGuard: async (name, change) =>
      parse(
        z.object({ guard: GuardAccountSchema }),
        await send(`api/guards/${encodeURIComponent(name)}`, patch(change)),
      ).guard,
    kiosks: async () =>
      parse(z.object({ kiosks: z.array(AdminKioskSchema) }), await send('api/kiosks')).kiosks,
    enrolKiosk: async (kiosk) => parse(EnrolledKioskSchema, await send('api/kiosks', post(kiosk))),
    updateKiosk: async (id, change) =>
      parse(
        z.object({ kiosk: KioskRecordSchema }),
        await send(`api/kiosks/${encodeURIComponent(id)}`, patch(change)),
      ).kiosk,
    revokeKiosk: async (id) => {
      await send(`api/kiosks/${encodeURIComponent(id)}/revoke`, post());
    },
    ringGroups: async () =>
      parse(z.object({ ringGroups: z.array(RingGroupSchema) }), await send('api/ring-groups'))
        .ringGroups,
    saveRingGroup: async (group) => {
      await send('api/ring-groups', post(group));
    },
    deleteRingGroup: async (id) => {
      await send(`api/ring-groups/${encodeURIComponent(id)}`, remove);
    },
  };
}
