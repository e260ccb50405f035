/**
 * Reading passwords (src/cli/password-input.ts): from a pipe, minus one trailing newline; typed at
 * a terminal with echo off, honouring backspace, Enter and Ctrl-C. The terminal is a stream that
 * records raw-mode switches (a pty is not available to every test run; the real prompt was checked
 * under `script(1)`).
 */
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { isPortcullisError } from '../../src/core/errors.ts';

/** The CLI's "could not be done" failure (exit code 1), with its code. */
const failedWith = (code: string) => (err: unknown) => isPortcullisError(err) && err.rule === 'command' && err.code === code;
import { promptHidden, readPasswordFromStdin } from '../../src/cli/password-input.ts';

class FakeTerminal extends PassThrough {
  isTTY = true;
  isRaw = false;
  rawModes: boolean[] = [];
  setRawMode(mode: boolean): this {
    this.isRaw = mode;
    this.rawModes.push(mode);
    return this;
  }
}

function sink(): PassThrough & { text(): string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return Object.assign(out, { text: () => text });
}

describe('password input', () => {
  it('from a pipe: everything, minus one trailing newline (LF or CRLF)', async () => {
    assert.equal(await readPasswordFromStdin(Readable.from([Buffer.from('secret with spaces \n')])), 'secret with spaces ');
    assert.equal(await readPasswordFromStdin(Readable.from([Buffer.from('crlf\r\n')])), 'crlf');
    assert.equal(await readPasswordFromStdin(Readable.from([Buffer.from('two\n\n')])), 'two\n');
    assert.equal(await readPasswordFromStdin(Readable.from([Buffer.from('spl'), Buffer.from('it')])), 'split');
    await assert.rejects(readPasswordFromStdin(Readable.from([Buffer.alloc(70 * 1024, 0x61)])), failedWith('payload_too_large'));
  });

  it('at a terminal: echo off, backspace edits, Enter ends, raw mode restored; nothing typed is echoed', async () => {
    const terminal = new FakeTerminal();
    const err = sink();
    const answer = promptHidden('Password: ', terminal as never, err);
    terminal.write('hunter22x\u007f2\r');
    assert.equal(await answer, 'hunter222');
    assert.deepEqual(terminal.rawModes, [true, false]);
    assert.ok(!err.text().includes('hunter'), 'the password is not echoed');
    assert.ok(err.text().startsWith('Password: '));
  });

  it('at a terminal: Ctrl-C aborts (exit code 1) and restores the terminal', async () => {
    const terminal = new FakeTerminal();
    const answer = promptHidden('Password: ', terminal as never, sink());
    terminal.write('abc\u0003');
    await assert.rejects(answer, failedWith('invalid_request'));
    assert.equal(terminal.isRaw, false);
  });
});
