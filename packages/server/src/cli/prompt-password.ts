import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/**
 * Asks for a password on the terminal without echoing it (the question goes to stderr, the answer is not
 * shown). Only for an interactive terminal: undefined when stdin is not one (read it with --password-stdin).
 */
export async function promptPassword(question: string): Promise<string | undefined> {
  if (!process.stdin.isTTY) return undefined;
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, callback) {
      if (!muted) process.stderr.write(chunk);
      callback();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    const answer = new Promise<string>((resolve) => rl.question(question, resolve));
    muted = true;
    const password = await answer;
    process.stderr.write('\n');
    return password;
  } finally {
    rl.close();
  }
}
