import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Host } from '../../shared/inventory.ts';
import { tempDirs } from '../temp-dirs.ts';
import { browserSession, cli, screenshots } from './browser.ts';

/**
 * The SSH parts of the Hosts view that need no reachable host: import from ~/.ssh/config, health
 * of hosts that refuse connections, and the known host keys. The server runs with a HOME of its
 * own, whose ~/.ssh this test writes.
 */

// Port 1 on loopback refuses at once: every host is down, quickly and for a known reason.
const SSH_CONFIG = `Host imgs
  HostName 127.0.0.1
  Port 1
  User root

Host cache01
  HostName 127.0.0.2
  Port 1
  ProxyJump imgs

Host backup-box
  HostName 127.0.0.3
  Port 1

Host *.example
  User nobody
`;

/** A known_hosts line for a fresh ED25519 key (the wire format: string type, string key). */
function knownHostsLine(name: string): string {
  const raw = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `${name} ssh-ed25519 ${Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]).toString('base64')}\n`;
}

const dirs = tempDirs('e2e-ssh-ui', ['user']);
const ui = browserSession('ssh-ui', {
  hash: '#/hosts',
  before: async (home) => {
    mkdirSync(join(dirs.user, '.ssh'), { mode: 0o700 });
    writeFileSync(join(dirs.user, '.ssh', 'config'), SSH_CONFIG);
    writeFileSync(join(dirs.user, '.ssh', 'known_hosts'), knownHostsLine('10.9.9.9'));
    writeFileSync(join(home, 'known_hosts'), knownHostsLine('[127.0.0.1]:1'));
    return { HOME: dirs.user };
  },
});

const row = (name: string | RegExp) => ui.page.getByRole('row').filter({ has: ui.page.getByRole('rowheader', { name, exact: typeof name === 'string' }) });

describe('ssh in the Hosts view', () => {
  it('imports hosts from ~/.ssh/config: roles guessed and marked, the rest chosen, jump hosts first', async () => {
    await ui.page.getByRole('button', { name: 'Import from ~/.ssh/config' }).last().click();
    const panel = ui.page.getByRole('region', { name: 'Import from ~/.ssh/config' });
    await expect.poll(() => panel.getByRole('checkbox').count(), { timeout: 10_000 }).toBe(3);
    expect(await panel.getByRole('checkbox', { name: 'Add imgs' }).isChecked()).toBe(true);
    expect(await panel.getByRole('checkbox', { name: 'Add cache01' }).isChecked()).toBe(true);
    expect(await panel.getByRole('checkbox', { name: 'Add backup-box' }).isChecked()).toBe(false);
    expect(await row('cache01').textContent()).toContain('guessed');
    expect(await row('backup-box').textContent()).not.toContain('guessed');
    await panel.getByRole('combobox', { name: 'Role of backup-box' }).selectOption('home');
    await panel.getByRole('checkbox', { name: 'Add backup-box' }).check();
    await screenshots(ui.page, 'hosts-import');
    await panel.getByRole('button', { name: 'Add selected (3)' }).click();
    await expect.poll(() => panel.count(), { timeout: 10_000 }).toBe(0);

    const listed = await cli(ui.home, 'hosts', 'list', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as Host[]).map((h) => [h.name, h.role, h.address, h.port, h.jump])).toEqual([
      ['imgs', 'imgs', '127.0.0.1', 1, undefined],
      ['backup-box', 'home', '127.0.0.3', 1, undefined],
      ['cache01', 'cache', '127.0.0.2', 1, 'imgs'],
    ]);
  });

  it('shows a host that refuses as down, and why in full on demand', async () => {
    await ui.page.getByRole('button', { name: 'Check now' }).click();
    const status = row('imgs').locator('td').first();
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toMatch(/^down/);
    const why = status.getByRole('button');
    const title = (await why.getAttribute('title')) ?? '';
    expect(title).toMatch(/127\.0\.0\.1/);
    await why.click();
    expect(await why.getAttribute('aria-expanded')).toBe('true');
    expect((await ui.page.getByRole('alert').textContent())?.trim()).toBe(title);
    await screenshots(ui.page, 'hosts-down');
  });

  it('lists the known host keys, forgets the console’s own after a confirmation, and says whether secrets are kept', async () => {
    await ui.page.getByText('Host keys and saved passwords').click();
    const details = ui.page.locator('details.known');
    await expect.poll(() => details.getByText(/Passwords and key passphrases are/).count()).toBe(1);
    await expect.poll(() => row('10.9.9.9').count()).toBe(1);
    expect(await row('10.9.9.9').textContent()).toContain('read-only');
    expect(await row('[127.0.0.1]:1').textContent()).toMatch(/ED25519\s*SHA256:[A-Za-z0-9+/]{43}/);

    await row('[127.0.0.1]:1').getByRole('button', { name: 'Forget the keys of [127.0.0.1]:1' }).click();
    expect(await row('[127.0.0.1]:1').textContent()).toContain('Forget every key saved for [127.0.0.1]:1?');
    await screenshots(ui.page, 'hosts-known-keys');
    await row('[127.0.0.1]:1').getByRole('button', { name: 'Forget', exact: true }).click();
    await expect.poll(() => row('[127.0.0.1]:1').count()).toBe(0);
    expect(readFileSync(join(ui.home, 'known_hosts'), 'utf8')).not.toContain('127.0.0.1');
    expect(readFileSync(join(dirs.user, '.ssh', 'known_hosts'), 'utf8')).toContain('10.9.9.9');
  });
});
