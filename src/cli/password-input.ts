/**
 * Reading a password without putting it on the command line (where `ps` and shell history see it):
 * from standard input (`--password-stdin`, for scripts), or typed at a terminal with echo off.
 */
import { commandFailed } from './args.ts';

const MAX_STDIN = 64 * 1024;

/** All of stdin, minus one trailing newline (as `echo pw |` and here-strings add). */
export async function readPasswordFromStdin(stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > MAX_STDIN) throw commandFailed('payload_too_large', 'the password on standard input is too long');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Prompt on the terminal with echo off. Ctrl-C aborts (exit 130), Ctrl-D ends the line. */
export function promptHidden(prompt: string, stdin: NodeJS.ReadStream = process.stdin, stderr: NodeJS.WritableStream = process.stderr): Promise<string> {
  return new Promise((resolve, reject) => {
    stderr.write(prompt);
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const finish = (err?: Error) => {
      stdin.setRawMode(wasRaw);
      stdin.pause();
      stdin.off('data', onData);
      stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (data: Buffer) => {
      for (const char of data.toString('utf8')) {
        if (char === '\u0003') return finish(commandFailed('invalid_request', 'aborted'));
        if (char === '\r' || char === '\n' || char === '\u0004') return finish();
        if (char === '\u007f' || char === '\b') value = [...value].slice(0, -1).join('');
        else if (char >= ' ') value += char;
      }
    };
    stdin.on('data', onData);
  });
}
