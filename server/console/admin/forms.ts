/**
 * The admin forms without the page: reading each form into the request the API takes, the
 * problems worth catching before the server is asked (it checks everything again), and the
 * message for each refusal the server can send for that form.
 */
import { kioskIdSchema } from '../../../app/contract/intercom-protocol.js';
import { fieldText } from '../components/field-text.js';
import { errorCodeOf, errorMessageKey } from '../error-message.js';
import type { TranslationKey } from '../i18n/index.js';
import {
  guardRoles,
  type GuardRequest,
  type KioskChange,
  type KioskRequest,
  type RingGroup,
} from './api.js';

/** Why a form was not sent or was refused: a code for tests, a message for the admin. */
export interface FormError {
  code: string;
  key: TranslationKey;
}

/** A form's request, or why it cannot be sent. */
export type Checked<T> = { ok: true; value: T } | { ok: false; error: FormError };

/** The server's shortest password; longer ones are better. */
export const minPasswordLength = 10;

// The server's own rules, repeated so the admin hears of a typo before a round trip.
const guardNamePattern = /^[\p{L}\p{N}._-]{1,64}$/u;
const ringGroupIdPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The new guard's account, once the name is valid and the password is typed twice alike. */
export function readGuardForm(form: FormData): Checked<GuardRequest> {
  const name = fieldText(form, 'guardName').trim();
  const password = fieldText(form, 'guardPassword');
  const role = fieldText(form, 'guardRole');

  if (!guardNamePattern.test(name)) return problem('name_invalid', 'admin.guards.nameInvalid');
  const checked = checkPassword(password, fieldText(form, 'guardPasswordAgain'));
  if (!checked.ok) return checked;

  const known = (guardRoles as readonly string[]).includes(role);
  return {
    ok: true,
    value: { name, password, role: known ? (role as GuardRequest['role']) : 'guard' },
  };
}

/** The new password an admin sets for a guard, once it is long enough and typed twice alike. */
export function readPasswordResetForm(form: FormData): Checked<string> {
  return checkPassword(fieldText(form, 'resetPassword'), fieldText(form, 'resetPasswordAgain'));
}

function checkPassword(password: string, again: string): Checked<string> {
  if (password.length < minPasswordLength)
    return problem('password_short', 'admin.guards.passwordShort');
  if (password !== again) return problem('passwords_differ', 'admin.guards.passwordsDiffer');

  return { ok: true, value: password };
}

/** The kiosk to enrol; an empty ring group means none yet. */
export function readKioskForm(form: FormData): Checked<KioskRequest> {
  const id = fieldText(form, 'kioskId').trim();
  const name = fieldText(form, 'kioskName').trim();
  const ringGroup = fieldText(form, 'kioskRingGroup');

  if (!kioskIdSchema.safeParse(id).success) return problem('id_invalid', 'admin.kiosks.idInvalid');
  if (!name) return problem('name_missing', 'admin.kiosks.nameMissing');

  return { ok: true, value: { id, name, ringGroup: ringGroup || null } };
}

/** A kiosk's new name and ring group; an empty ring group takes it out of every group. */
export function readKioskEditForm(form: FormData): Checked<Required<KioskChange>> {
  const name = fieldText(form, 'kioskEditName').trim();
  const ringGroup = fieldText(form, 'kioskEditRingGroup');

  if (!name) return problem('name_missing', 'admin.kiosks.nameMissing');
  return { ok: true, value: { name, ringGroup: ringGroup || null } };
}

/**
 * The ring group to save with the checked guards. Saving replaces a group of the same id, so a
 * new group (`editing` false) may not take an id already in `existing`.
 */
export function readRingGroupForm(
  form: FormData,
  existing: readonly RingGroup[],
  editing: boolean,
): Checked<RingGroup> {
  const id = fieldText(form, 'ringGroupId').trim();
  const name = fieldText(form, 'ringGroupName').trim();
  const guardIds = form.getAll('ringGroupGuards').map(Number).filter(Number.isInteger);

  if (!ringGroupIdPattern.test(id)) return problem('id_invalid', 'admin.ringGroups.idInvalid');
  if (!name) return problem('name_missing', 'admin.ringGroups.nameMissing');
  if (!editing && existing.some((group) => group.id === id))
    return problem('conflict', 'admin.ringGroups.idTaken');

  return { ok: true, value: { id, name, guardIds } };
}

/** Why the server refused a new guard. */
export function guardFailure(error: unknown): FormError {
  return failure(error, {
    conflict: 'admin.guards.nameTaken',
    bad_payload: 'admin.guards.invalid',
  });
}

/** Why the server refused to change a guard (the last active admin stays one). */
export function guardChangeFailure(error: unknown): FormError {
  return failure(error, {
    conflict: 'admin.guards.lastAdmin',
    not_found: 'admin.guards.gone',
    bad_payload: 'admin.guards.invalid',
  });
}

/** Why the server refused to enrol a kiosk. */
export function kioskFailure(error: unknown): FormError {
  return failure(error, {
    conflict: 'admin.kiosks.idTaken',
    not_found: 'admin.kiosks.ringGroupGone',
    bad_payload: 'admin.kiosks.invalid',
  });
}

/** Why the server refused to change a kiosk; `not_found` is the kiosk or its new ring group. */
export function kioskEditFailure(error: unknown): FormError {
  return failure(error, {
    not_found: 'admin.kiosks.editGone',
    bad_payload: 'admin.kiosks.invalid',
  });
}

/** Why the server refused to revoke a kiosk. */
export function revokeFailure(error: unknown): FormError {
  return failure(error, { not_found: 'admin.kiosks.revokeGone' });
}

/** Why the server refused a ring group. */
export function ringGroupFailure(error: unknown): FormError {
  return failure(error, {
    not_found: 'admin.ringGroups.guardGone',
    bad_payload: 'admin.ringGroups.invalid',
  });
}

/** Why the server refused to delete a ring group: mostly, kiosks still ring it. */
export function ringGroupDeleteFailure(error: unknown): FormError {
  return failure(error, {
    conflict: 'admin.ringGroups.inUse',
    not_found: 'admin.ringGroups.deleteGone',
  });
}

function failure(error: unknown, keys: Partial<Record<string, TranslationKey>>): FormError {
  const code = errorCodeOf(error);
  return { code, key: keys[code] ?? errorMessageKey(code) };
}

function problem(code: string, key: TranslationKey): { ok: false; error: FormError } {
  return { ok: false, error: { code, key } };
}
