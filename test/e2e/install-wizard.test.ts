import { describe, expect, it } from 'vitest';
import { installLabUp } from '../lab/install-lab.ts';
import { labSession } from '../lab/session.ts';
import { browserSession, screenshots } from './browser.ts';

/**
 * Issue 5 through the window: cache01 of a lab of its own goes from an empty disk to verified in
 * the cache-node wizard (browser mode over the same core as Electron), the window is reloaded
 * halfway and resumes, and a second check plans nothing; then home is installed the same way by its
 * role alone. Screenshots of every stage, light and dark.
 */

// The lab (packages from its mirror, as a user's) and its hosts in the inventory, by a core of this process.
const lab = labSession('e2e-install', installLabUp, { timeout: 1_800_000 });
const ui = browserSession('install', { home: () => lab.home, hash: '#/install' });

const heading = (name: string | RegExp) => ui.page.getByRole('heading', { level: 2, name });
const stage = (name: string | RegExp) => ui.page.getByRole('navigation', { name: 'Cache-node wizard stages' }).getByRole('button', { name });

describe('the cache-node wizard on the lab', () => {
  it('installs cache01 from an empty disk to verified, resuming after a reload, and a second check plans nothing', { timeout: 600_000 }, async () => {
    await heading('Which cache node?').waitFor();
    await screenshots(ui.page, 'wizard-1-host');
    await ui.page.getByRole('button', { name: 'cache01', exact: true }).click();

    await heading('Preflight').waitFor();
    await ui.page.getByText(/Debian GNU\/Linux 12/).first().waitFor();
    await screenshots(ui.page, 'wizard-2-preflight');
    await ui.page.getByRole('button', { name: 'Continue to the disk' }).click();

    await heading('The disk for the iCBD filesystem').waitFor();
    const radios = ui.page.getByRole('radio');
    await expect.poll(() => radios.count()).toBe(1);
    await radios.first().check();
    await screenshots(ui.page, 'wizard-3-disk');
    await ui.page.getByRole('button', { name: 'Continue to the network' }).click();

    await heading('Cache number and networks').waitFor();
    expect(await ui.page.getByLabel('imgs address').inputValue()).toBe('10.213.2.251');
    await ui.page.getByLabel('Client subnet').fill('10.213.101.0/24');
    // the lab's containers share a kernel without NFS: the nfs4 lines are left out
    await ui.page.getByLabel(/Mount home's and rw's NFS exports/).uncheck();
    await ui.page.getByText('The cache answers its clients at 10.213.101.251.').waitFor();
    await screenshots(ui.page, 'wizard-4-network');
    await ui.page.getByRole('button', { name: 'Review the plan' }).click();

    await heading('Review the whole plan').waitFor();
    await ui.page.getByText('$ mkfs.btrfs -L icbd /dev/vdb').waitFor();

    // closing the window here loses nothing: it opens on the same host and stage
    await ui.page.reload();
    await ui.page.getByRole('button', { name: 'cache01', exact: true }).click();
    await heading('Review the whole plan').waitFor();
    await ui.page.getByText('$ mkfs.btrfs -L icbd /dev/vdb').waitFor();
    expect(await stage(/Review/).getAttribute('aria-current')).toBe('step');
    const apply = ui.page.getByRole('button', { name: /^Apply \d+ changes$/ });
    expect(await apply.isDisabled()).toBe(true);
    await ui.page.getByLabel(/Type \/dev\/vdb to confirm/).fill('/dev/vdb');
    expect(await apply.isDisabled()).toBe(false);
    await screenshots(ui.page, 'wizard-5-review');
    await apply.click();

    await heading('Apply').waitFor();
    // the packages step fetches and installs the Debian mapping through the lab's mirror first
    await ui.page.getByRole('button', { name: 'Reboot and verify' }).waitFor({ timeout: 480_000 });
    expect(await ui.page.getByLabel('Command log').textContent()).toContain('ok     mkfs.btrfs -L icbd /dev/vdb');
    await screenshots(ui.page, 'wizard-6-apply');
    await ui.page.getByRole('button', { name: 'Reboot and verify' }).click();

    await heading('Reboot and verify').waitFor();
    await ui.page.getByRole('button', { name: 'Reboot cache01 now' }).click();
    await ui.page.getByText('cache01 came back with every mount and service in place.').waitFor({ timeout: 300_000 });
    await screenshots(ui.page, 'wizard-7-reboot');
    await ui.page.getByRole('button', { name: 'Finish' }).click();

    await heading('cache01 is a cache node').waitFor();
    await ui.page.getByRole('button', { name: 'Check again' }).click();
    await ui.page.getByText('Checked just now: nothing to do.').waitFor({ timeout: 60_000 });
    expect(await ui.page.getByRole('button', { name: 'Replicate the latest images now' }).isDisabled()).toBe(true);
    await screenshots(ui.page, 'wizard-8-done');
  });

  it('installs home by its role, reboots it, and a second check plans nothing', { timeout: 600_000 }, async () => {
    await ui.page.getByRole('link', { name: 'Install' }).click();
    await ui.page.getByRole('button', { name: 'Any host by role' }).click();
    await ui.page.getByLabel('Host').selectOption('home');
    await expect.poll(() => ui.page.getByLabel('Role').inputValue()).toBe('home');
    await ui.page.getByRole('radio', { name: /\/dev\/vdb/ }).check();
    await ui.page.getByRole('button', { name: 'Check (dry run)' }).click();
    await ui.page.getByText('$ mkfs.btrfs -L icbd /dev/vdb').waitFor();
    const apply = ui.page.getByRole('button', { name: /^Apply \d+ changes$/ });
    expect(await apply.isDisabled()).toBe(true);
    await ui.page.getByLabel(/Type \/dev\/vdb to confirm/).fill('/dev/vdb');
    await screenshots(ui.page, 'by-role-review');
    await apply.click();
    await ui.page.getByText('home is installed and verified as home.').waitFor({ timeout: 300_000 });
    await ui.page.getByRole('button', { name: 'Reboot home and verify' }).click();
    // A reboot job that fails shows its error at once: the test says it instead of waiting out its time.
    const back = ui.page.getByText('home came back with every mount and service in place.');
    const alert = ui.page.getByRole('alert');
    await back.or(alert).first().waitFor({ timeout: 300_000 });
    expect(await alert.count(), (await alert.allTextContents()).join('\n')).toBe(0);
    await back.waitFor();
    await screenshots(ui.page, 'by-role-rebooted');
    await ui.page.getByRole('button', { name: 'Check again' }).click();
    await ui.page.getByText('Checked just now: home is a verified home node, nothing to do.').waitFor({ timeout: 60_000 });
  });

  it('shows every change in the Audit view, filtered by host, with the command or the diff', async () => {
    await ui.page.getByRole('link', { name: 'Audit' }).click();
    await ui.page.getByLabel('Host').selectOption('cache01');
    const rows = ui.page.getByRole('row');
    await expect.poll(() => rows.count()).toBeGreaterThan(20);
    await ui.page.getByRole('row').filter({ hasText: 'Reboot' }).first().waitFor();
    const fstab = ui.page.getByRole('row').filter({ hasText: "Write the role's lines to /etc/fstab" }).first();
    await fstab.getByRole('button', { name: 'Details' }).click();
    await ui.page.locator('.diff .add').first().waitFor();
    await screenshots(ui.page, 'audit');
  });
});
