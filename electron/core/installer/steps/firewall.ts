import { cmd } from '../changes.ts';
import type { FirewallState } from '../state.ts';
import type { Change, Notice, Step } from '../step.ts';

/** The policy that lets iCBD-Net out through the outside interface where firewalld filters forwarding itself. */
export const FORWARD_POLICY = 'icbd-nat';

/** 0.9 brought policies, and with them firewalld's own filtering of forwarded traffic. */
export function filtersForwarding(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map((n) => Number.parseInt(n, 10));
  return major > 0 || minor >= 9;
}

/**
 * The guide's FORWARD direct rules accept iCBD-Net → outside in iptables, but firewalld ≥ 0.9
 * (nftables) rejects forwarded packets in its own table too, whatever iptables said: the NAT
 * then needs a policy from the internal zone to the outside interface's zone, and that zone must
 * hold the interface by name (a policy does not reach an interface that is in a zone only by
 * being the default one).
 */
function forwardPolicy(fw: FirewallState, ext: string, internal: string): Change[] {
  if (!filtersForwarding(fw.version)) return [];
  const zone = fw.extZone || fw.defaultZone;
  const fc = (summary: string, ...args: string[]) => cmd(summary, ['firewall-cmd', '--permanent', ...args]);
  const p = `--policy=${FORWARD_POLICY}`;
  const changes: Change[] = [];
  if (!fw.extZone) changes.push(fc(`Put ${ext} in zone ${zone} by name (it is there as the default zone)`, `--zone=${zone}`, `--change-interface=${ext}`));
  if (!fw.policy) changes.push(fc(`New policy ${FORWARD_POLICY}: ${internal} may forward out through ${zone}`, `--new-policy=${FORWARD_POLICY}`));
  if (!fw.policy?.ingress.includes(internal)) changes.push(fc(`Policy ${FORWARD_POLICY}: from zone ${internal}`, p, `--add-ingress-zone=${internal}`));
  if (!fw.policy?.egress.includes(zone)) changes.push(fc(`Policy ${FORWARD_POLICY}: to zone ${zone}`, p, `--add-egress-zone=${zone}`));
  if (fw.policy?.target !== 'ACCEPT') changes.push(fc(`Policy ${FORWARD_POLICY}: accept`, p, '--set-target=ACCEPT'));
  return changes;
}

/**
 * Annex 2 "Activate NAT" and "Firewall configuration" on imgs, where firewalld exists (not on
 * Debian, where the notice says so). The guide's eth_ext / eth_int are the interface of the
 * default route and the one holding imgs's platform address. Everything is made --permanent and
 * then loaded with --reload, which is what the guide's "Runtime to Permanent" amounts to.
 */
export const firewall: Step = {
  id: 'firewall',
  title: 'Firewall and NAT',
  roles: ['imgs'],
  plan: ({ state, spec, input }) => {
    const fw = state.firewall;
    const want = spec.firewall;
    if (!want) return { changes: [] };
    if (!fw) return { changes: [], notices: [{ level: 'warning', message: 'firewalld is not installed: the guide\'s firewall services and NAT rules are not configured (only IP forwarding is).' }] };
    const notices: Notice[] = [];
    const changes: Change[] = [];
    const zone = `--zone=${want.zone}`;
    if (!fw.running) changes.push(cmd('Start firewalld', ['systemctl', 'enable', '--now', 'firewalld']));
    const ext = state.defaultRouteIf;
    const int = state.addresses.find((a) => a.address === input.platform.imgs)?.ifname;
    if (!ext || !int) {
      notices.push({ level: 'blocker', message: `The NAT needs the outside interface (default route: ${ext ?? 'none'}) and the one holding ${input.platform.imgs} (${int ?? 'none'}).` });
      return { changes, notices };
    }
    const unknown = want.services.filter((s) => fw.running && !fw.available.includes(s));
    if (unknown.length) notices.push({ level: 'warning', message: `This firewalld has no service ${unknown.join(', ')}; it is left out.` });
    const add = want.services.filter((s) => !unknown.includes(s) && !fw.zoneServices.includes(s));
    if (add.length) changes.push(cmd(`Allow ${add.join(', ')} in zone ${want.zone}`, ['firewall-cmd', '--permanent', zone, ...add.map((s) => `--add-service=${s}`)]));
    if (!fw.zoneInterfaces.includes(int)) changes.push(cmd(`Put ${int} in zone ${want.zone}`, ['firewall-cmd', '--permanent', zone, `--change-interface=${int}`]));
    if (want.masquerade && !fw.masquerade) changes.push(cmd(`Masquerade in zone ${want.zone}`, ['firewall-cmd', '--permanent', zone, '--add-masquerade']));
    for (const rule of want.directRules) {
      const argv = rule.map((w) => (w === 'eth_ext' ? ext : w === 'eth_int' ? int : w));
      if (!fw.directRules.includes(argv.join(' '))) changes.push(cmd(`Direct rule: ${argv.join(' ')}`, ['firewall-cmd', '--permanent', '--direct', '--add-rule', ...argv]));
    }
    if (want.directRules.length) changes.push(...forwardPolicy(fw, ext, want.zone));
    if (changes.length) changes.push(cmd('Load the permanent configuration', ['firewall-cmd', '--reload']));
    return { changes, notices };
  },
};
