/**
 * A `--import` preload for child processes: records every attempt to reach an address outside
 * loopback (a socket connect or a DNS lookup) as a JSON line in the file named by `EGRESS_LOG`,
 * then lets the attempt proceed. Tests read the file to prove a process calls nowhere it was not
 * told to. Everything the product talks to in a test is on 127.0.0.1.
 */
import dns from 'node:dns';
import { appendFileSync } from 'node:fs';
import net from 'node:net';

const file = process.env['EGRESS_LOG'];
if (!file) throw new Error('egress-hook: set EGRESS_LOG to the file to record in');
const logFile: string = file;

const LOOPBACK_NAMES = new Set(['localhost', 'ip6-localhost', 'ip6-loopback']);

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (LOOPBACK_NAMES.has(bare) || bare.endsWith('.localhost')) return true;
  if (bare === '::1' || bare === '0:0:0:0:0:0:0:1') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice('::ffff:'.length) : bare;
  return net.isIPv4(v4) && v4.startsWith('127.');
}

function record(kind: 'connect' | 'lookup', host: string, port?: unknown): void {
  if (isLoopback(host)) return;
  const line = {
    pid: process.pid,
    argv: process.argv.slice(2).join(' '),
    kind,
    host,
    port,
    stack: new Error().stack?.split('\n').slice(2, 12),
  };
  appendFileSync(logFile, `${JSON.stringify(line)}\n`);
}

type Options = { host?: unknown; port?: unknown; path?: unknown };

/** The destination of `socket.connect(...)` in each of its call forms, or undefined for IPC paths. */
function destinationOf(args: unknown[]): { host: string; port: unknown } | undefined {
  // net.connect() normalises its arguments into an array [options, callback] before calling here.
  const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
  if (first && typeof first === 'object') {
    const options = first as Options;
    if (typeof options.path === 'string') return undefined;
    return { host: typeof options.host === 'string' ? options.host : 'localhost', port: options.port };
  }
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first)))
    return { host: typeof args[1] === 'string' ? args[1] : 'localhost', port: first };
  return undefined;
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function patchedConnect(this: net.Socket, ...args: unknown[]) {
  const destination = destinationOf(args);
  if (destination) record('connect', destination.host, destination.port);
  return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof connect;

const lookup = dns.lookup;
dns.lookup = function patchedLookup(hostname: string, ...rest: unknown[]) {
  if (typeof hostname === 'string') record('lookup', hostname);
  return (lookup as (...a: unknown[]) => unknown).call(dns, hostname, ...rest);
} as typeof dns.lookup;

const lookupPromise = dns.promises.lookup;
dns.promises.lookup = function patchedLookupPromise(hostname: string, ...rest: unknown[]) {
  if (typeof hostname === 'string') record('lookup', hostname);
  return (lookupPromise as (...a: unknown[]) => unknown).call(dns.promises, hostname, ...rest);
} as typeof dns.promises.lookup;
