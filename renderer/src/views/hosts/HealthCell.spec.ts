import { render, screen, within } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HealthProblem as Problem, HostHealth } from '../../../../shared/ssh.ts';
import HealthCell from './HealthCell.svelte';
import HealthProblem from './HealthProblem.svelte';

const FP = 'SHA256:8XzyWq3p0D1s6RsO1Xkq4A7Gd1sB9cTrmKxV2yE5fLw';
const key = (state: 'unknown' | 'changed' | 'revoked', hop = 'cache01') => ({ state, hop, address: '10.0.0.21', port: 22, keyType: 'ssh-ed25519', fingerprint: FP });
const NOT_ACCEPTED: Problem = {
  code: 'UNAUTHORIZED',
  message: `cache01 (10.0.0.21:22) answers, but its host key ED25519 ${FP} is not accepted yet, so nothing logs in to it.`,
  hostKey: key('unknown'),
};
const CHANGED: Problem = {
  code: 'UNAUTHORIZED',
  message: `SECURITY: the host key of cache01 (10.0.0.21:22) has CHANGED: … remove the old key with \`icbd known-hosts forget 10.0.0.21 22\`.`,
  hostKey: key('changed'),
};
const health = (state: HostHealth['state'], lastError: Problem | null = null, latencyMs: number | null = null): HostHealth => ({
  host: 'cache01',
  state,
  latencyMs,
  lastError,
  checkedAt: 2,
  since: 1,
});

afterEach(() => document.body.replaceChildren());

/** The cell in a row of a table, where it lives. */
function cell(h: HostHealth | undefined) {
  const row = document.body.appendChild(document.createElement('table')).appendChild(document.createElement('tbody')).appendChild(document.createElement('tr'));
  const ontoggle = vi.fn();
  render(HealthCell, { target: row, props: { health: h, expanded: false, ontoggle } });
  return { td: row.querySelector('td')!, ontoggle };
}

describe('HealthCell', () => {
  it('shows up with its latency, and a host not probed yet as unknown', () => {
    expect(cell(health('up', null, 3.25)).td.textContent).toBe('up, 3.3 ms');
    expect(cell(undefined).td.textContent).toBe('unknown');
  });

  it('shows down in red words, the reason one click away', async () => {
    const down = { code: 'UNAVAILABLE', message: 'Nothing accepts SSH connections at cache01 (10.0.0.21:22).' } as const;
    const { td, ontoggle } = cell(health('down', down));
    const button = within(td).getByRole('button');
    expect(button.textContent).toMatch(/^down: Nothing accepts SSH connections/);
    expect(button.getAttribute('title')).toBe(down.message);
    expect(td.classList.contains('alarm')).toBe(false);
    await userEvent.setup().click(button);
    expect(ontoggle).toHaveBeenCalledOnce();
  });

  it('shows a host whose key is not accepted yet as untrusted, not down and not alarming', () => {
    const { td } = cell(health('untrusted', NOT_ACCEPTED));
    const button = within(td).getByRole('button');
    expect(button.textContent).toBe(`untrusted: ${NOT_ACCEPTED.message} (checked ${new Date(2).toLocaleTimeString()})`);
    expect(td.classList.contains('untrusted')).toBe(true);
    expect(td.classList.contains('alarm')).toBe(false);
  });

  it('shows a changed or revoked key as an alarm that names it', () => {
    const changed = cell(health('untrusted', CHANGED)).td;
    expect(within(changed).getByRole('button').textContent).toMatch(/^key changed: SECURITY: /);
    expect(changed.classList.contains('alarm')).toBe(true);
    const revoked = cell(health('untrusted', { ...CHANGED, message: 'SECURITY: revoked', hostKey: key('revoked') })).td;
    expect(within(revoked).getByRole('button').textContent).toMatch(/^key revoked: SECURITY: revoked/);
    expect(revoked.classList.contains('alarm')).toBe(true);
  });
});

describe('HealthProblem (the words under the row)', () => {
  it('asks calmly about a key not accepted yet', () => {
    render(HealthProblem, { problem: NOT_ACCEPTED });
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.getByRole('status').textContent).toBe(NOT_ACCEPTED.message);
  });

  it('raises an alert for a changed key, in full, with the command to run after checking', () => {
    render(HealthProblem, { problem: CHANGED });
    expect(screen.getByRole('alert').textContent?.trim()).toBe(CHANGED.message);
    expect(screen.getByRole('alert').textContent).toContain('icbd known-hosts forget 10.0.0.21 22');
  });
});
