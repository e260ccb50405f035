/**
 * A tiny SMTP server (RFC 5321) on node:net for tests: it speaks just enough ESMTP for a real
 * client (nodemailer) to deliver — EHLO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, QUIT — and keeps
 * every message it receives. No STARTTLS is offered, so the client stays in plain text on loopback.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The DATA section, dot-unstuffed, headers and body. */
  data: string;
  /** `user:password` when the client authenticated. */
  auth: string | undefined;
}

export interface SmtpServer {
  port: number;
  messages: ReceivedMail[];
  /** Answer the next MAIL FROM with this failure (e.g. to test a refusing server). */
  refuseNext: boolean;
  stop(): Promise<void>;
}

const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

export async function startSmtpServer(): Promise<SmtpServer> {
  const sockets = new Set<Socket>();
  const state: SmtpServer = { port: 0, messages: [], refuseNext: false, stop: async () => {} };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.setEncoding('utf8');
    const say = (line: string) => socket.write(`${line}\r\n`);
    let buffer = '';
    let mail: ReceivedMail = { from: '', to: [], data: '', auth: undefined };
    let auth: string | undefined;
    let mode: 'command' | 'data' | 'login-user' | 'login-pass' = 'command';
    let loginUser = '';
    const data: string[] = [];
    say('220 localhost ESMTP test');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let at = buffer.indexOf('\r\n'); at >= 0; at = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        if (mode === 'data') {
          if (line === '.') {
            mail.data = data.join('\r\n');
            mail.auth = auth;
            state.messages.push(mail);
            mail = { from: '', to: [], data: '', auth: undefined };
            data.length = 0;
            mode = 'command';
            say('250 2.0.0 queued');
          } else {
            data.push(line.startsWith('..') ? line.slice(1) : line);
          }
          continue;
        }
        if (mode === 'login-user') {
          loginUser = b64(line);
          mode = 'login-pass';
          say('334 UGFzc3dvcmQ6');
          continue;
        }
        if (mode === 'login-pass') {
          auth = `${loginUser}:${b64(line)}`;
          mode = 'command';
          say('235 2.7.0 ok');
          continue;
        }
        const [verb = '', ...rest] = line.split(' ');
        switch (verb.toUpperCase()) {
          case 'EHLO':
            say('250-localhost');
            say('250-AUTH PLAIN LOGIN');
            say('250 8BITMIME');
            break;
          case 'HELO':
            say('250 localhost');
            break;
          case 'AUTH':
            if (rest[0]?.toUpperCase() === 'PLAIN') {
              const [, user, pass] = b64(rest[1] ?? '').split('\0');
              auth = `${user}:${pass}`;
              say('235 2.7.0 ok');
            } else {
              mode = 'login-user';
              say('334 VXNlcm5hbWU6');
            }
            break;
          case 'MAIL':
            if (state.refuseNext) {
              state.refuseNext = false;
              say('550 5.7.1 refused');
              break;
            }
            mail.from = /<([^>]*)>/.exec(line)?.[1] ?? '';
            say('250 2.1.0 ok');
            break;
          case 'RCPT':
            mail.to.push(/<([^>]*)>/.exec(line)?.[1] ?? '');
            say('250 2.1.5 ok');
            break;
          case 'DATA':
            mode = 'data';
            say('354 go ahead');
            break;
          case 'RSET':
            mail = { from: '', to: [], data: '', auth: undefined };
            say('250 ok');
            break;
          case 'QUIT':
            say('221 bye');
            socket.end();
            break;
          default:
            say('250 ok');
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.stop = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}

/** The body of a received message with quoted-printable soft breaks undone. */
export function mailText(mail: ReceivedMail): string {
  return mail.data.replace(/=\r\n/g, '').replace(/=3D/g, '=');
}
