/**
 * One push, timed as the benchmark times the app's (BenchLab.app), in a process whose ssh2 has
 * no native crypto binding (no-ssh2-binding.mjs is preloaded): the relay row without it.
 * Started by replication.bench.ts with a copy of its data directory; prints {"seconds": N}.
 */
import { Core } from '../../electron/core/core.ts';
import { cryptoBindingAvailable } from '../../electron/core/ssh/algorithms.ts';
import { pushInput } from '../../shared/transfers.ts';
import { BenchLab } from './bench-lab.ts';

const [home, json] = process.argv.slice(2);
if (!home || !json) throw new Error('usage: push-without-binding.ts HOME PUSH-INPUT-JSON');
if (await cryptoBindingAvailable()) throw new Error("ssh2's native binding loaded: start this with --import ./test/bench/no-ssh2-binding.mjs");
const input = pushInput.parse(JSON.parse(json));
const core = new Core({ home, door: 'cli', asker: { askHostKey: async () => false, askSecret: async () => undefined } });
try {
  // As in the parent, the connections are open before the clock starts.
  const ssh = await core.ssh();
  for (const node of [input.source, ...input.targets]) await ssh.run(node, ['true']);
  const { seconds } = await new BenchLab(core, new Map()).app(input);
  console.log(JSON.stringify({ seconds }));
} finally {
  await core.close();
}
