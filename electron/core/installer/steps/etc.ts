import { EXPORTS, HOSTS, hostsLine, exportsLine, SYSCTL, sysctlLine } from '../../../../shared/etc-files.ts';
import { SERVICES } from '../../../../shared/distro.ts';
import { hostsEntries } from '../../../../shared/roles.ts';
import { editOwned } from '../../../../shared/textfile.ts';
import { cmd, editTargets, fileChange, restartable } from '../changes.ts';
import type { Change, Step } from '../step.ts';
import type { HostState } from '../state.ts';

/** Annex 2 "Update the hosts file" (and the cache's split of the client-facing names). */
export const hosts: Step = {
  id: 'hosts',
  title: '/etc/hosts',
  plan: (ctx) => {
    const peers = (ctx.input.peers ?? []).flatMap((p) => (p.name && p.address ? [hostsLine(p.address, [p.name])] : []));
    const wanted = [...hostsEntries(ctx.spec, ctx.input.platform).map(([address, names]) => hostsLine(address, names)), ...peers];
    const changes: Change[] = editTargets(ctx, '/etc/hosts', 'before-mounts').flatMap((where) =>
      fileChange('Point the platform names at their nodes', where, where.current, editOwned(where.current ?? '', HOSTS, wanted), { mode: '644' }),
    );
    // dnsmasq serves /etc/hosts to the clients and reads it at start
    const units = changes.length ? restartable(ctx, ctx.spec.services.filter((s) => SERVICES[s].config.includes('/etc/hosts'))) : [];
    if (units.length) changes.push(cmd(`Restart ${units.join(', ')} if running`, ['systemctl', 'try-restart', ...units]));
    return { changes };
  },
};

// The running value of each sysctl the roles set, as the gather reads it.
const LIVE: Readonly<Record<string, (s: HostState) => string>> = { 'net.ipv4.ip_forward': (s) => s.ipForward };

/** Annex 2 "Add line to sysctl": persisted in /etc/sysctl.conf and set live. */
export const sysctl: Step = {
  id: 'sysctl',
  title: 'Kernel parameters',
  roles: ['imgs'],
  plan: ({ spec, state }) => {
    const settings = Object.entries(spec.sysctl);
    const before = state.files['/etc/sysctl.conf'];
    const after = editOwned(before ?? '', SYSCTL, settings.map(([k, v]) => sysctlLine(k, v)));
    const off = settings.filter(([k, v]) => LIVE[k]?.(state) !== v);
    const live = state.procSysWritable ? off : [];
    return {
      changes: [
        ...fileChange('Persist the kernel parameters', { path: '/etc/sysctl.conf', inPlace: false }, before, after, { mode: '644' }),
        ...live.map(([k, v]) => cmd(`Set ${k}=${v} now`, ['sysctl', '-w', `${k}=${v}`])),
      ],
      notices: state.procSysWritable
        ? []
        : off.map(([k, v]) => ({ level: 'warning' as const, message: `${k}=${v} is in /etc/sysctl.conf but cannot be set here: /proc/sys is read-only (a container); the host's own kernel decides.` })),
    };
  },
};

/** The exports the caches' nfs4 mounts need (see roles.ts); exportfs re-reads the file. */
export const exportsStep: Step = {
  id: 'exports',
  title: '/etc/exports',
  roles: ['rw', 'home'],
  plan: (ctx) => {
    const wanted = ctx.spec.exports.map((e) => exportsLine(e.path, ctx.input.platform.clients, e.options));
    const changes: Change[] = editTargets(ctx, '/etc/exports', 'after-mounts').flatMap((where) =>
      fileChange('Export the NFSv4 tree to the platform', where, where.current, editOwned(where.current ?? '', EXPORTS, wanted), { mode: '644' }),
    );
    if (changes.length) changes.push(cmd('Re-export everything in /etc/exports', ['exportfs', '-ra']));
    return { changes };
  },
};
