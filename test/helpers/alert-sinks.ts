import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * Where alert notices land in tests: a local Slack-style incoming webhook and a local SMTP server
 * (the `smtp-server` package, mail read back with mailparser). Real sockets, nothing mocked.
 */

export interface SlackReceiver {
  /** The webhook URL to give a `slack` channel. */
  url: string;
  /** Every JSON body received, in order. */
  received: unknown[];
  close(): Promise<void>;
}

/** Answers each POST with the next scripted status (then 200 `ok`, as Slack does). */
export async function startSlackReceiver(
  script: { status: number; headers?: Record<string, string>; body?: string }[] = [],
): Promise<SlackReceiver> {
  const received: unknown[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      received.push(JSON.parse(raw));
      const next = script.shift() ?? { status: 200, body: 'ok' };
      res.writeHead(next.status, { 'content-type': 'text/plain', ...next.headers });
      res.end(next.body ?? 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/XXXX`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface SmtpSink {
  /** `smtp://127.0.0.1:<port>` for an `email` channel. */
  url: string;
  mails: ParsedMail[];
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const mails: ParsedMail[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          mails.push(mail);
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  return {
    url: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
    mails,
    close: () => new Promise((resolve) => smtp.close(() => resolve())),
  };
}
