import { AUTHORIZED_KEYS, authorizedKeyLine, KNOWN_HOSTS, knownHostLine } from '../../../../shared/etc-files.ts';
import { editOwned } from '../../../../shared/textfile.ts';
import { RECEIVE_WRAPPER, receiveWrapper, REPLICATION_KEY } from '../../replication/pipeline.ts';
import { cmd, fileChange } from '../changes.ts';
import type { Change, Notice, Step } from '../step.ts';

export const SSH_DIR = '/root/.ssh';
export const KEY = `${SSH_DIR}/id_ed25519`;

/**
 * The node's own key, which the others will trust. The guide says `ssh-keygen -t rsa`; ed25519 is
 * what OpenSSH recommends and every supported release (CentOS 7's OpenSSH 7.4 included) has it.
 */
export const sshKey: Step = keyStep('ssh-key', 'SSH key of the node', KEY, 'root', "Generate the node's SSH key");

/** A step that makes an ed25519 key pair at `path` when there is none (never replaces one). */
function keyStep(id: Step['id'], title: string, path: string, who: string, summary: string): Step {
  return {
    id,
    title,
    plan: ({ state, input }) => {
      if (state.files[`${path}.pub`] !== undefined) return { changes: [] };
      const changes: Change[] = [];
      if (!state.paths[SSH_DIR]) changes.push(cmd(`Create ${SSH_DIR}`, ['install', '-d', '-m', '700', SSH_DIR]));
      changes.push(cmd(summary, ['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `${who}@${input.host}`, '-f', path]));
      return { changes };
    },
  };
}

/** Annex 2's SSH table: every node accepts every other node's key and knows its host key. */
export const sshTrust: Step = {
  id: 'ssh-trust',
  title: 'SSH trust between nodes',
  plan: ({ state, input }) => {
    const peers = input.peers ?? [];
    if (peers.length === 0) return { changes: [], notices: [{ level: 'info', message: 'No other node in the inventory yet: trust is set up when the others are installed (install trust).' }] };
    // Each peer's key from that peer's own addresses, so a copied key is no use elsewhere.
    const keys = peers.flatMap((p) => (p.publicKey ? [authorizedKeyLine(p.publicKey, p.sources.length > 0 ? `from="${p.sources.join(',')}"` : undefined)] : []));
    const known = peers.flatMap((p) => (p.hostKey ? [knownHostLine(p.names, p.hostKey)] : []));
    const authorized = state.files[`${SSH_DIR}/authorized_keys`];
    const knownHosts = state.files[`${SSH_DIR}/known_hosts`];
    return {
      changes: [
        ...fileChange('Accept the other nodes\' keys', { path: `${SSH_DIR}/authorized_keys`, inPlace: false }, authorized, editOwned(authorized ?? '', AUTHORIZED_KEYS, keys), { mode: '600' }),
        ...fileChange('Know the other nodes\' host keys', { path: `${SSH_DIR}/known_hosts`, inPlace: false }, knownHosts, editOwned(knownHosts ?? '', KNOWN_HOSTS, known), { mode: '644' }),
      ],
      notices: peers.flatMap((p): Notice[] => {
        const name = p.name ?? p.names[0];
        if (p.problem) return [{ level: 'warning', message: `${name} is not reachable (${p.problem}): trust with it will be completed when it is reachable (install trust).` }];
        if (!p.publicKey) return [{ level: 'info', message: `${name} has no root key yet: trust with it will be completed when it is installed (install trust).` }];
        if (p.sources.length === 0) return [{ level: 'warning', message: `${name} has no IP address in the inventory or the platform settings: its key is accepted from any address. Give it an IP address to narrow it.` }];
        return [];
      }),
    };
  },
};

/**
 * Replication's own key on the source (direct mode logs in with it, pipeline.ts): a key apart from
 * root's, so that what the receivers grant it can be narrowed to a receive.
 */
export const replicationKey: Step = keyStep('replication-key', "Replication's SSH key", REPLICATION_KEY, 'icbd-replication', 'Generate the key replication pushes with');

/** How a receiver accepts the source's replication key: from its addresses only, for the receive wrapper only. */
export function replicationKeyLine(publicKey: string, from: readonly string[]) {
  return authorizedKeyLine(publicKey, `from="${from.join(',')}",restrict,command="${RECEIVE_WRAPPER}"`);
}

/**
 * A receiver of direct-mode pushes: the receive wrapper in place and the source's replication key
 * accepted for it alone (whoever holds that key gets a receive, not a shell: not root here).
 */
export const replicationReceive: Step = {
  id: 'replication-receive',
  title: 'Receiving replication pushes',
  plan: ({ state, input }) => {
    const r = input.replicationFrom;
    if (!r) return { changes: [] };
    const authorized = state.files[`${SSH_DIR}/authorized_keys`];
    return {
      changes: [
        ...fileChange('Place the receive wrapper, the only command the replication key runs', { path: RECEIVE_WRAPPER, inPlace: false }, state.files[RECEIVE_WRAPPER], receiveWrapper(r.root), { mode: '755' }),
        ...fileChange(
          'Accept the replication key for a receive only',
          { path: `${SSH_DIR}/authorized_keys`, inPlace: false },
          authorized,
          editOwned(authorized ?? '', AUTHORIZED_KEYS, [replicationKeyLine(r.publicKey, r.from)]),
          { mode: '600' },
        ),
      ],
    };
  },
};
