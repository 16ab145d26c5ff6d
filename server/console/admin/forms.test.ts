import { describe, expect, it } from 'vitest';
import { ApiError } from '../api.js';
import {
  guardChangeFailure,
  guardFailure,
  kioskEditFailure,
  kioskFailure,
  readGuardForm,
  readKioskEditForm,
  readKioskForm,
  readPasswordResetForm,
  readRingGroupForm,
  revokeFailure,
  ringGroupDeleteFailure,
  ringGroupFailure,
} from './forms.js';

function formOf(fields: Record<string, string | string[]>): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    for (const one of Array.isArray(value) ? value : [value]) form.append(name, one);
  }
  return form;
}

const newGuard = {
  guardName: ' 王小明 ',
  guardPassword: 'a long password',
  guardPasswordAgain: 'a long password',
  guardRole: 'admin',
};

describe('readGuardForm', () => {
  it('reads a trimmed name, the password as typed and the role', () => {
    expect(readGuardForm(formOf(newGuard))).toEqual({
      ok: true,
      value: { name: '王小明', password: 'a long password', role: 'admin' },
    });
  });

  it('refuses two different passwords before asking the server', () => {
    const checked = readGuardForm(formOf({ ...newGuard, guardPasswordAgain: 'a long passwore' }));

    expect(checked).toEqual({
      ok: false,
      error: { code: 'passwords_differ', key: 'admin.guards.passwordsDiffer' },
    });
  });

  it('refuses a short password and a name with spaces', () => {
    const short = formOf({ ...newGuard, guardPassword: 'short', guardPasswordAgain: 'short' });

    expect(readGuardForm(short)).toMatchObject({ error: { code: 'password_short' } });
    expect(readGuardForm(formOf({ ...newGuard, guardName: 'li wei' }))).toMatchObject({
      error: { code: 'name_invalid' },
    });
  });

  it('makes an unknown role a plain guard, never an admin', () => {
    expect(readGuardForm(formOf({ ...newGuard, guardRole: 'root' }))).toMatchObject({
      value: { role: 'guard' },
    });
  });
});

describe('readPasswordResetForm', () => {
  it('reads the new password as typed, spaces and all', () => {
    const form = formOf({
      resetPassword: ' a new password ',
      resetPasswordAgain: ' a new password ',
    });

    expect(readPasswordResetForm(form)).toEqual({ ok: true, value: ' a new password ' });
  });

  it('refuses a short password and two different ones before asking the server', () => {
    const short = formOf({ resetPassword: 'short', resetPasswordAgain: 'short' });
    const differ = formOf({
      resetPassword: 'a new password',
      resetPasswordAgain: 'a new passwore',
    });

    expect(readPasswordResetForm(short)).toEqual({
      ok: false,
      error: { code: 'password_short', key: 'admin.guards.passwordShort' },
    });
    expect(readPasswordResetForm(differ)).toMatchObject({ error: { code: 'passwords_differ' } });
  });
});

describe('readKioskEditForm', () => {
  it('reads a trimmed name and the ring group, or none when none is chosen', () => {
    const fields = { kioskEditName: ' East gate ', kioskEditRingGroup: 'east' };

    expect(readKioskEditForm(formOf(fields))).toEqual({
      ok: true,
      value: { name: 'East gate', ringGroup: 'east' },
    });
    expect(readKioskEditForm(formOf({ ...fields, kioskEditRingGroup: '' }))).toMatchObject({
      value: { ringGroup: null },
    });
  });

  it('refuses an empty name', () => {
    expect(readKioskEditForm(formOf({ kioskEditName: '  ', kioskEditRingGroup: '' }))).toEqual({
      ok: false,
      error: { code: 'name_missing', key: 'admin.kiosks.nameMissing' },
    });
  });
});

describe('readKioskForm', () => {
  it('reads the kiosk with its ring group, or none when none is chosen', () => {
    const fields = { kioskId: 'north-1', kioskName: ' North gate ', kioskRingGroup: 'north' };

    expect(readKioskForm(formOf(fields))).toEqual({
      ok: true,
      value: { id: 'north-1', name: 'North gate', ringGroup: 'north' },
    });
    expect(readKioskForm(formOf({ ...fields, kioskRingGroup: '' }))).toMatchObject({
      value: { ringGroup: null },
    });
  });

  it('refuses an id the kiosk protocol would refuse', () => {
    const checked = readKioskForm(formOf({ kioskId: 'North Gate', kioskName: 'North' }));

    expect(checked).toEqual({
      ok: false,
      error: { code: 'id_invalid', key: 'admin.kiosks.idInvalid' },
    });
  });
});

describe('readRingGroupForm', () => {
  const existing = [{ id: 'north', name: 'North', guardIds: [1] }];

  it('reads the checked guards as ids', () => {
    const form = formOf({
      ringGroupId: 'south',
      ringGroupName: 'South',
      ringGroupGuards: ['2', '5'],
    });

    expect(readRingGroupForm(form, existing, false)).toEqual({
      ok: true,
      value: { id: 'south', name: 'South', guardIds: [2, 5] },
    });
  });

  it('keeps a new group from replacing an existing one of the same id', () => {
    const form = formOf({ ringGroupId: 'north', ringGroupName: 'Another north' });

    expect(readRingGroupForm(form, existing, false)).toEqual({
      ok: false,
      error: { code: 'conflict', key: 'admin.ringGroups.idTaken' },
    });
    expect(readRingGroupForm(form, existing, true)).toMatchObject({
      ok: true,
      value: { id: 'north', name: 'Another north', guardIds: [] },
    });
  });

  it('refuses an id with capitals and a missing name', () => {
    expect(
      readRingGroupForm(formOf({ ringGroupId: 'North', ringGroupName: 'x' }), [], false),
    ).toMatchObject({ error: { code: 'id_invalid' } });
    expect(
      readRingGroupForm(formOf({ ringGroupId: 'north', ringGroupName: ' ' }), [], false),
    ).toMatchObject({ error: { code: 'name_missing' } });
  });
});

describe('server refusals', () => {
  it('say what a taken name or id means for each form', () => {
    const conflict = new ApiError(409, 'conflict', 'exists');

    expect(guardFailure(conflict)).toEqual({ code: 'conflict', key: 'admin.guards.nameTaken' });
    expect(kioskFailure(conflict)).toEqual({ code: 'conflict', key: 'admin.kiosks.idTaken' });
  });

  it('say which thing was not found for each form', () => {
    const notFound = new ApiError(404, 'not_found', 'gone');

    expect(kioskFailure(notFound).key).toBe('admin.kiosks.ringGroupGone');
    expect(revokeFailure(notFound).key).toBe('admin.kiosks.revokeGone');
    expect(ringGroupFailure(notFound).key).toBe('admin.ringGroups.guardGone');
  });

  it('explain the refusals of changes: the last admin, a ring group in use, a kiosk gone', () => {
    const conflict = new ApiError(409, 'conflict', 'last admin');
    const notFound = new ApiError(404, 'not_found', 'gone');

    expect(guardChangeFailure(conflict).key).toBe('admin.guards.lastAdmin');
    expect(guardChangeFailure(notFound).key).toBe('admin.guards.gone');
    expect(ringGroupDeleteFailure(conflict)).toEqual({
      code: 'conflict',
      key: 'admin.ringGroups.inUse',
    });
    expect(ringGroupDeleteFailure(notFound).key).toBe('admin.ringGroups.deleteGone');
    expect(kioskEditFailure(notFound).key).toBe('admin.kiosks.editGone');
  });

  it('fall back to the shared message for other codes', () => {
    expect(guardFailure(new ApiError(403, 'forbidden', 'admins only'))).toEqual({
      code: 'forbidden',
      key: 'errors.forbidden',
    });
    expect(ringGroupFailure(new Error('boom'))).toEqual({
      code: 'internal',
      key: 'errors.internal',
    });
  });
});
