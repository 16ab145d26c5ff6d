import { createElement } from 'react';
import { beforeAll, describe, expect, it } from 'vitest';
import en from '../i18n/en.json';
import { render, startEnglish } from '../testing/markup.js';
import type { AdminApi, AdminKiosk, GuardAccount, RingGroup } from './api.js';
import { GuardsSection } from './GuardsSection.js';
import { KiosksSection } from './KiosksSection.js';
import { RingGroupsSection } from './RingGroupsSection.js';

// Effects and clicks do not run here: these check which controls each row offers.
const api = {} as AdminApi;
const onChanged = () => undefined;

const guards: GuardAccount[] = [
  { id: 1, name: 'admin', role: 'admin', disabled: false, createdAt: 0 },
  { id: 2, name: 'anna', role: 'guard', disabled: false, createdAt: 0 },
  { id: 3, name: 'ben', role: 'guard', disabled: true, createdAt: 0 },
];

const kiosks: AdminKiosk[] = [
  { id: 'north-1', name: 'North', online: true, revoked: false, ringGroup: 'gate' },
  { id: 'old-1', name: 'Old', online: false, revoked: true, ringGroup: null },
];

const ringGroups: RingGroup[] = [
  { id: 'gate', name: 'Gate', guardIds: [2] },
  { id: 'back', name: 'Back', guardIds: [] },
];

beforeAll(() => {
  startEnglish();
});

describe('the guards section', () => {
  const section = () =>
    render(createElement(GuardsSection, { api, guards, self: 'admin', onChanged }));
  const row = (name: string) => section().element('tr', `data-guard-name="${name}"`);

  it('offers to disable an active guard and to enable a disabled one', () => {
    expect(row('anna').count('guard-disable')).toBe(1);
    expect(row('anna').count('guard-enable')).toBe(0);
    expect(row('ben').count('guard-enable')).toBe(1);
    expect(row('ben').count('guard-disable')).toBe(0);
  });

  it('offers a password reset and the other role on every row, and marks the admin’s own', () => {
    expect(section().count('guard-reset-password')).toBe(guards.length);
    expect(row('admin').html).toContain(en.admin.guards.makeGuard);
    expect(row('anna').html).toContain(en.admin.guards.makeAdmin);
    expect(row('admin').html).toContain(en.admin.you);
    expect(row('anna').html).not.toContain(en.admin.you);
  });
});

describe('the kiosks section', () => {
  it('offers to edit a kiosk that can still connect, not a revoked one', () => {
    const section = render(createElement(KiosksSection, { api, kiosks, ringGroups, onChanged }));

    expect(section.element('tr', 'data-kiosk-id="north-1"').count('kiosk-edit')).toBe(1);
    expect(section.element('tr', 'data-kiosk-id="old-1"').count('kiosk-edit')).toBe(0);
  });
});

describe('the ring groups section', () => {
  it('offers to delete each ring group', () => {
    const section = render(
      createElement(RingGroupsSection, { api, ringGroups, guards, kiosks, onChanged }),
    );

    expect(section.count('ring-group-delete')).toBe(ringGroups.length);
    expect(section.count('ring-group-delete-confirm')).toBe(0);
  });
});
