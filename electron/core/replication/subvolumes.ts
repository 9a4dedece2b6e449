import { parseSubvolumeIds, parseSubvolumeList, type SubvolumeList } from '../../../shared/replication.ts';
import { lastText } from './commands.ts';
import { runText, type NodeRemote } from '../remote/node.ts';

// The first candidate that is a btrfs mount names the filesystem; `list` shows every subvolume
// of it from the top level (Lib, Lib/icbd, Lib/icbd/.snap …), wherever it is mounted.
const LIST = `for p in "$@"; do
  [ -d "$p" ] || continue
  [ "$(stat -f -c %T "$p" 2>/dev/null)" = btrfs ] || continue
  echo "icbd:mount $p"
  btrfs subvolume list -p -u -q -R "$p" || exit $?
  echo icbd:readonly
  btrfs subvolume list -r "$p" || exit $?
  exit 0
done
echo icbd:no-btrfs`;

/** A node's raw subvolume list, read through the first of `candidates` that is on btrfs. */
export async function listSubvolumes(remote: NodeRemote, node: string, candidates: readonly string[]): Promise<SubvolumeList> {
  const r = await runText(remote, node, ['sh', '-c', LIST, 'sh', ...candidates], { sudo: true, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`btrfs subvolume list on ${node} failed: ${lastText(r.stderr) || `exit code ${r.code}`}`);
  const mount = r.stdout.match(/^icbd:mount (.+)$/m)?.[1] ?? null;
  const [all = '', ro = ''] = r.stdout.split(/^icbd:readonly$/m);
  return { node, mount, subvolumes: mount ? parseSubvolumeList(all, parseSubvolumeIds(ro)) : [] };
}
