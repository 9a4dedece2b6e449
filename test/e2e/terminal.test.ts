import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, type TestContext } from 'vitest';
import type { LabInfoWire } from '../../shared/lab.ts';
import { browserSession, cli, screenshots } from './browser.ts';

/**
 * Shells in the window: a local one always, and one on cache01 (through imgs) when the demo lab
 * can be had. The lab is shared with other work on this machine: it is brought up (and down
 * again) only when none is up; a lab that is already up is used as it is.
 */

let lab: LabInfoWire | undefined;
let labUnavailable = '';
let ownLab = false;

const ui = browserSession('terminal', {
  hash: '#/hosts',
  before: async (home) => {
    const up = await labStatus();
    if (up) {
      lab = up;
      await addLabHosts(up);
    } else {
      const started = await cli(home, 'lab', 'up');
      if (started.code === 0) {
        ownLab = true;
        lab = (await labStatus()) ?? undefined;
      } else labUnavailable = `lab up failed:\n${started.stderr}${started.stdout}`.slice(-2000);
    }
    // Whoever trusted the lab's keys before, this window must ask: the app's known_hosts starts empty.
    rmSync(join(home, 'known_hosts'), { force: true });
  },
  after: async () => {
    if (!ownLab) return;
    const down = await cli(ui.home, 'lab', 'down');
    if (down.code !== 0) console.error(`lab down failed:\n${down.stderr}`);
  },
});
beforeAll(() => ui.page.getByRole('link', { name: /Terminal/ }).click());

async function labStatus(): Promise<LabInfoWire | null> {
  const status = await cli(ui.home, 'lab', 'status', '--json');
  if (status.code !== 0) throw new Error(`lab status failed:\n${status.stderr}`);
  return JSON.parse(status.stdout) as LabInfoWire | null;
}

/** Someone else's lab: its hosts go into this test's own inventory, jump hosts first. */
async function addLabHosts(info: LabInfoWire): Promise<void> {
  for (const h of [...info.hosts].sort((a, b) => Number(Boolean(a.jump)) - Number(Boolean(b.jump)))) {
    const jump = h.jump ? ['--jump', h.jump] : [];
    const added = await cli(ui.home, 'hosts', 'add', h.name, '--address', h.address, '--port', String(h.port), '--role', h.role, '--identity-file', info.identityFile, ...jump);
    if (added.code !== 0) throw new Error(`hosts add ${h.name} failed:\n${added.stderr}`);
  }
}

function needsLab(ctx: TestContext): void {
  if (!lab) ctx.skip(`The demo lab cannot be had here. ${labUnavailable}`);
}

/** The visible terminal's lines, as drawn. */
const lines = () => ui.page.locator('#terminal-panel .xterm-rows > div').allTextContents();
const hasLine = async (test: (line: string) => boolean) => (await lines()).some((line) => test(line.trim()));
const tab = (name: string | RegExp) => ui.page.getByRole('tab', { name });
// A shell's answer can take a few seconds on a busy machine (the lab, other test files).
const SHELL = { timeout: 15_000 };

async function openShell(target: string): Promise<void> {
  await ui.page.getByLabel('Shell on').selectOption(target);
  await ui.page.getByRole('button', { name: 'Open', exact: true }).click();
}

async function focusIsInTerminal(): Promise<boolean> {
  return ui.page.evaluate(() => document.activeElement?.classList.contains('xterm-helper-textarea') ?? false);
}

describe('terminal in browser mode', () => {
  it('opens a local shell that shows its prompt and runs what is typed', async () => {
    expect(await ui.page.getByRole('heading', { name: 'No shell open' }).isVisible()).toBe(true);
    await openShell('');
    await expect.poll(() => tab(/local/).getAttribute('aria-selected'), SHELL).toBe('true');
    await expect.poll(() => hasLine((l) => /[$#]$/.test(l)), SHELL).toBe(true);
    await expect.poll(focusIsInTerminal, SHELL).toBe(true);
    await ui.page.keyboard.type('echo $((6*7))\n');
    await expect.poll(() => hasLine((l) => l === '42'), SHELL).toBe(true);
  });

  it('keeps streaming far past the 256 KiB the core lets out unacknowledged', async () => {
    // About 1.9 MB of output: without terminal.ack after each drawn chunk the shell would stall.
    await ui.page.keyboard.type('seq 300000; echo streamed-$((300000/1000))k\n');
    await expect.poll(() => hasLine((l) => l === 'streamed-300k'), { timeout: 60_000 }).toBe(true);
  });

  it('draws 24-bit colours and a selection under the strict CSP, and copies and pastes with Ctrl+Shift+C/V', async () => {
    await ui.page.keyboard.type("printf '\\e[38;2;200;80;10mmarker-%s\\e[0m\\n' copied\n");
    await expect.poll(() => hasLine((l) => l === 'marker-copied'), SHELL).toBe(true);
    const marker = ui.page.locator('#terminal-panel .xterm-rows span', { hasText: 'marker-copied' });
    expect(await marker.evaluate((el) => getComputedStyle(el).color)).toBe('rgb(200, 80, 10)');

    // xterm's screen takes the pointer events over its rows: click where the word is drawn.
    const word = (await marker.boundingBox())!;
    await ui.page.mouse.dblclick(word.x + word.width / 2, word.y + word.height / 2);
    await ui.page.keyboard.press('Control+Shift+C');
    await ui.page.keyboard.type('echo pasted:');
    await ui.page.keyboard.press('Control+Shift+V');
    await ui.page.keyboard.press('Enter');
    await expect.poll(() => hasLine((l) => l === 'pasted:marker-copied'), SHELL).toBe(true);
    await screenshots(ui.page, 'terminal-local');
  });

  it('leaves the shell only on Ctrl+Shift+ArrowUp: Escape belongs to the shell', async () => {
    // Escape then "." is readline's yank-last-arg: it inserts the last argument of the previous line.
    await ui.page.keyboard.press('Escape');
    expect(await focusIsInTerminal()).toBe(true);
    await ui.page.keyboard.type('.');
    await ui.page.keyboard.press('Control+A');
    await ui.page.keyboard.type('echo esc:\n');
    await expect.poll(() => hasLine((l) => l === 'esc:pasted:marker-copied'), SHELL).toBe(true);

    await ui.page.keyboard.press('Control+Shift+ArrowUp');
    expect(await tab(/local/).evaluate((el) => el === document.activeElement)).toBe(true);
    await ui.page.keyboard.press('Enter');
    expect(await focusIsInTerminal()).toBe(true);
  });

  it('asks for each host key on the way to cache01 (imgs first), then opens a shell there', async (ctx) => {
    needsLab(ctx);
    await openShell('cache01');
    const imgsKey = ui.page.getByRole('dialog', { name: 'Trust the host key of imgs?' });
    await expect.poll(() => imgsKey.isVisible(), { timeout: 30_000 }).toBe(true);
    expect(await imgsKey.getByRole('button', { name: 'Reject' }).evaluate((el) => el === document.activeElement)).toBe(true);
    const facts = await imgsKey.locator('dt').evaluateAll((dts) => Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling?.textContent])));
    const imgs = lab!.hosts.find((h) => h.name === 'imgs')!;
    expect(facts).toMatchObject({ Host: 'cache01', 'Jump host': 'imgs', Address: `${imgs.address}:${imgs.port}` });
    expect(facts.Fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(await tab(/cache01/).textContent()).toContain('connecting…');
    await screenshots(ui.page, 'host-key-dialog');
    await imgsKey.getByRole('button', { name: 'Accept' }).click();

    const cacheKey = ui.page.getByRole('dialog', { name: 'Trust the host key of cache01?' });
    await expect.poll(() => cacheKey.isVisible(), { timeout: 30_000 }).toBe(true);
    await cacheKey.getByRole('button', { name: 'Accept' }).click();

    await expect.poll(() => hasLine((l) => /cache01.*[$#]$/.test(l)), { timeout: 30_000 }).toBe(true);
    await expect.poll(focusIsInTerminal, SHELL).toBe(true);
    await ui.page.keyboard.type('hostname\n');
    await expect.poll(() => hasLine((l) => l === 'cache01'), SHELL).toBe(true);
    await screenshots(ui.page, 'terminal-ssh');
  });

  it('keeps every session through a change of view', async (ctx) => {
    needsLab(ctx);
    await ui.page.getByRole('link', { name: /Hosts/ }).click();
    await ui.page.getByRole('heading', { level: 1, name: 'Hosts' }).waitFor();
    await ui.page.getByRole('link', { name: /Terminal/ }).click();
    await expect.poll(() => ui.page.getByRole('tab').allTextContents()).toEqual([expect.stringContaining('local'), expect.stringContaining('cache01')]);
    await expect.poll(() => hasLine((l) => l === 'cache01'), SHELL).toBe(true);
    await tab(/cache01/).focus();
    await ui.page.keyboard.press('Enter');
    await ui.page.keyboard.type('echo still-$(hostname)\n');
    await expect.poll(() => hasLine((l) => l === 'still-cache01'), SHELL).toBe(true);
  });

  it('shows health, latency and the accepted keys in the Hosts view', async (ctx) => {
    needsLab(ctx);
    await ui.page.getByRole('link', { name: /Hosts/ }).click();
    await ui.page.getByRole('button', { name: 'Check now' }).click();
    const status = (name: string) => ui.page.getByRole('row').filter({ has: ui.page.getByRole('rowheader', { name, exact: true }) }).locator('td').first();
    await expect.poll(() => status('cache01').textContent(), { timeout: 30_000 }).toMatch(/^up, [\d.]+ ms$/);
    await expect.poll(() => status('imgs').textContent(), SHELL).toMatch(/^up, [\d.]+ ms$/);

    await ui.page.getByText('Host keys and saved passwords').click();
    const cache01 = lab!.hosts.find((h) => h.name === 'cache01')!;
    const keyRow = ui.page.getByRole('row').filter({ has: ui.page.getByRole('rowheader', { name: cache01.address, exact: true }) });
    await expect.poll(() => keyRow.count()).toBe(1);
    expect(await keyRow.textContent()).toMatch(/SHA256:[A-Za-z0-9+/]{43}/);
    expect(await keyRow.getByRole('button', { name: `Forget the keys of ${cache01.address}` }).isVisible()).toBe(true);
    await screenshots(ui.page, 'hosts-health');
  });

  it('marks a shell that ended with its exit status, and closes its tab', async () => {
    await ui.page.getByRole('link', { name: /Terminal/ }).click();
    await tab(/local/).click();
    await ui.page.keyboard.press('Enter');
    await ui.page.keyboard.type('exit 3\n');
    await expect.poll(() => tab(/local/).textContent(), SHELL).toContain('exit 3');
    await expect.poll(() => hasLine((l) => l === '[Shell ended: exit 3]'), SHELL).toBe(true);
    await ui.page.getByRole('button', { name: 'Close local' }).click();
    expect(await tab(/local/).count()).toBe(0);
  });
});
