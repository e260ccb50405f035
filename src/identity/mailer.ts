/**
 * Outgoing e-mail: invitations (identity/invitations.ts) and password resets (the account pages).
 * `createMailer(config.smtp)` gives undefined when no SMTP server is configured; callers then hand
 * the link to whoever asked instead of sending it.
 *
 *   const mailer = createMailer(config.smtp);
 *   await mailer?.send({ to, subject, text });   // throws PortcullisError('unavailable') when the server refuses
 *
 * Plain text only: nothing in these messages needs markup, and text cannot carry a tracking pixel
 * or a script. Header injection is impossible through `to` and `subject`: nodemailer encodes them,
 * and we refuse line breaks in either before it sees them.
 */
import nodemailer from 'nodemailer';
import type { Config } from '../core/config.ts';
import { PortcullisError } from '../core/errors.ts';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

export function createMailer(smtp: Config['smtp']): Mailer | undefined {
  if (!smtp) return undefined;
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port ?? (smtp.secure ? 465 : 587),
    secure: smtp.secure,
    auth: smtp.user && smtp.password ? { user: smtp.user, pass: smtp.password } : undefined,
    // Never wait on a stuck server for longer than a person waits on a page.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  return {
    async send(message) {
      if (/[\r\n]/.test(message.to) || /[\r\n]/.test(message.subject)) throw new PortcullisError('invalid_request', 'line breaks in an e-mail header');
      try {
        await transport.sendMail({ from: smtp.from, to: message.to, subject: message.subject, text: message.text });
      } catch (err) {
        throw new PortcullisError('unavailable', 'the e-mail could not be sent', { rule: 'smtp', cause: err });
      }
    },
    close() {
      transport.close();
    },
  };
}
