/**
 * Run as a child process by test/auth/key-rotation.test.ts: starts the whole stack on free ports
 * with a registry file it watches, stops it, prints what is left (SIGHUP handlers, handles that
 * keep the event loop alive) as one JSON line, and then must exit on its own: nothing calls
 * process.exit, so a watcher or timer left behind would keep it running.
 */
import { writeTestRegistry } from './registry.js';
import { startTestStack } from './stack.js';

const { clientsFile } = writeTestRegistry([{ id: 'etl', scopes: ['crm:read'] }]);
const before = process.listenerCount('SIGHUP');
const stack = await startTestStack({ customers: 20, clientsFile });
const running = process.listenerCount('SIGHUP');
await stack.close();
process.stdout.write(`${JSON.stringify({ before, running, after: process.listenerCount('SIGHUP') })}\n`);
