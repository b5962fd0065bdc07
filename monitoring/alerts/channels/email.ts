import type { Transporter } from 'nodemailer';
import type { AlertNotice } from '../engine.js';
import { SendFailure, type AlertChannel } from './channel.js';

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** The subject and bodies of a notice's email. */
export function alertEmail(
  notice: AlertNotice,
  statusUrl: string,
): { subject: string; text: string; html: string } {
  const state = notice.state === 'firing' ? 'FIRING' : 'RESOLVED';
  const subject = `[${state}][${notice.severity}] ${notice.rule}: ${notice.connection}`;
  const lines = [
    `${state}: ${notice.rule}`,
    `Connection: ${notice.connection}${notice.platform ? ` (${notice.platform})` : ''}`,
    `Severity: ${notice.severity}`,
    `Figure: ${notice.summary}`,
    `Fired at: ${notice.firedAt}`,
    ...(notice.state === 'resolved' ? [`Resolved at: ${notice.at}`] : []),
    ...(notice.state === 'firing' && notice.lastError
      ? [`Last error: ${notice.lastError.code} ${notice.lastError.message} (${notice.lastError.at})`]
      : []),
    `Status page: ${statusUrl}`,
  ];
  const html = `<p>${lines.map(escapeHtml).join('<br>')}</p>`;
  return { subject, text: lines.join('\n'), html };
}

/**
 * Email over SMTP with nodemailer. SMTP 4xx answers and dropped connections are retried by the
 * notifier; 5xx answers (a refused recipient, a refused login) are not.
 */
export function emailChannel(
  name: string,
  options: { smtpUrl: string; from: string; to: readonly string[]; statusUrl: string },
): AlertChannel & { close(): void } {
  // nodemailer loads with the first alert mailed, not with every process that might mail one.
  let transport: Promise<Transporter> | undefined;
  const open = () =>
    (transport ??= import('nodemailer').then(({ default: nodemailer }) =>
      nodemailer.createTransport(options.smtpUrl),
    ));
  return {
    name,
    type: 'email',
    async send(notice) {
      const mail = alertEmail(notice, options.statusUrl);
      try {
        await (await open()).sendMail({ from: options.from, to: [...options.to], ...mail });
      } catch (error) {
        const code = (error as { responseCode?: number; code?: string }).responseCode;
        throw new SendFailure(
          `SMTP refused the alert (${code ?? (error as { code?: string }).code ?? 'error'})`,
          code === undefined || code < 500,
        );
      }
    },
    close: () => {
      void transport?.then(
        (opened) => opened.close(),
        () => undefined,
      );
    },
  };
}
