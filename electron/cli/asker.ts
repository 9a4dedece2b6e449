import { createInterface } from 'node:readline/promises';
import { keyTypeLabel, type HostKeyQuestion, type SecretQuestion } from '../../shared/ssh.ts';
import type { Asker } from '../core/util/prompts.ts';
import { NONE_STORED } from '../core/ssh/credentials.ts';

/**
 * The CLI asks as OpenSSH does: on the terminal, or not at all. Without a terminal an unknown host
 * key is refused unless --accept-new was given (OpenSSH's StrictHostKeyChecking=accept-new), and
 * no secret is asked for. A changed key never reaches here: the pool refuses it outright.
 */
export function terminalAsker(opts: { acceptNew: boolean }): Asker {
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  return {
    async askHostKey(q: HostKeyQuestion) {
      const where = q.hop === q.host ? `'${q.hop} (${q.address})'` : `'${q.hop} (${q.address})', the jump host of ${q.host},`;
      const fp = `${keyTypeLabel(q.keyType)} key fingerprint is ${q.fingerprint}.`;
      if (opts.acceptNew) {
        process.stderr.write(`Warning: permanently added ${where} (${fp}) to the app's known hosts.\n`);
        return true;
      }
      if (!interactive) {
        process.stderr.write(`The authenticity of host ${where} can't be established.\n${fp}\nNo terminal to ask on: run again with --accept-new to trust it, or connect once from a terminal.\n`);
        return false;
      }
      const others = q.otherKnown.map((k) => `\n  (known for this address already: ${keyTypeLabel(k.keyType)} ${k.fingerprint})`).join('');
      const answer = await ask(`The authenticity of host ${where} can't be established.\n${fp}${others}\nAre you sure you want to continue connecting (yes/no)? `);
      return answer.trim().toLowerCase() === 'yes';
    },
    async askSecret(q: SecretQuestion) {
      if (!interactive) return undefined;
      const note = q.remembered ? '' : ` (not remembered: ${q.reason})`;
      // Why a saved secret is asked for again (refused, or saved by 0.1 in a form not read here).
      if (q.remembered && q.reason !== NONE_STORED) process.stderr.write(`${q.reason}\n`);
      const answer = await askHidden(`${q.prompt}${note}: `);
      return answer === '' ? undefined : answer;
    },
  };
}

/** One line typed on the terminal (the question goes to stderr, so stdout stays the command's output). */
export async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

/** A password prompt: nothing is echoed, as with ssh and sudo. */
function askHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    process.stderr.write(question);
    const stdin = process.stdin;
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') {
          value = '';
          return done();
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      resolve(value);
    };
    stdin.on('data', onData);
  });
}
