/** `icbd daemon --install-unit`: the systemd unit it writes from resources/icbd-daemon.service. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderUnit } from '../../../electron/cli/daemon.ts';

describe('the systemd unit', () => {
  const template = readFileSync('resources/icbd-daemon.service', 'utf8');
  it('restarts on failure and logs to the journal', () => {
    expect(template).toMatch(/^Restart=on-failure$/m);
    expect(template).toMatch(/^StandardOutput=journal$/m);
    expect(template).toMatch(/^WantedBy=multi-user.target$/m);
  });
  it('runs this icbd on the data directory, quoted for systemd', () => {
    const unit = renderUnit(template, { node: '/usr/bin/node', icbd: '/opt/icbd/electron/icbd.mjs', home: '/root/.config/iCBD Console 100%', user: 'icbd' });
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node \/opt\/icbd\/electron\/icbd.mjs --home "\/root\/.config\/iCBD Console 100%%" daemon$/m);
    expect(unit).toMatch(/^User=icbd$/m);
    expect(unit).not.toContain('@');
    expect(() => renderUnit(template, { node: 'n', icbd: 'i', home: 'h', user: 'root; rm -rf /' })).toThrow(/not a user name/);
    expect(unit).not.toContain('ELECTRON_RUN_AS_NODE');
  });
  it("from the packaged app, runs the app's Electron as Node, as its icbd launcher does", () => {
    const unit = renderUnit(template, { node: '/opt/iCBD Console/icbd-console', icbd: '/opt/iCBD Console/resources/app.asar/out/cli/icbd.cjs', home: '/var/lib/icbd-console', user: 'icbd', electron: true });
    expect(unit).toMatch(/^Environment=ELECTRON_RUN_AS_NODE=1\nExecStart="\/opt\/iCBD Console\/icbd-console" "\/opt\/iCBD Console\/resources\/app.asar\/out\/cli\/icbd.cjs" --home \/var\/lib\/icbd-console daemon$/m);
  });
});
