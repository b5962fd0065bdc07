import { createServer, type IncomingHttpHeaders } from 'node:http';
import { listen, type Listening } from '../../lib/server/listen.js';
import { TWILIO_DEMO } from '../../platforms/twilio/demo.js';
import { createTwilioSandbox, type TwilioSandbox } from '../../platforms/twilio/sandbox/index.js';
import type { TwilioSandboxOptions } from '../../platforms/twilio/sandbox/sandbox.js';
import { receiveText } from '../../platforms/twilio/sandbox/state.js';
import { createSandboxServer, type SandboxServer } from '../../sandboxes/kit/server.js';
import { generateWorld, type World } from '../../sandboxes/world/world.js';
import { silentLogger } from './context.js';
import { TEST_ANCHOR_DATE } from './sandbox.js';

export const TWILIO = TWILIO_DEMO.credentials;

export interface RunningTwilioSandbox {
  sandbox: TwilioSandbox;
  server: SandboxServer;
  world: World;
  origin: string;
  /** `<origin>/2010-04-01`, what the client takes. */
  baseUrl: string;
  close(): Promise<void>;
}

/**
 * The Twilio sandbox on a free port with the demo account and the limits given (the descriptor's
 * plan covers only some), its internals in reach: the requests it recorded, the callbacks it sent.
 */
export async function startTwilioSandbox(
  options: Partial<Omit<TwilioSandboxOptions, 'world'>> & { world?: World; rateLimits?: boolean } = {},
): Promise<RunningTwilioSandbox> {
  const { world: given, rateLimits, ...rest } = options;
  const world = given ?? generateWorld({ seed: 7, customers: 300, anchorDate: TEST_ANCHOR_DATE });
  const sandbox = createTwilioSandbox({
    world,
    accountSid: TWILIO.accountSid,
    authToken: TWILIO.authToken,
    apiKey: { sid: TWILIO.apiKeySid, secret: TWILIO.apiKeySecret },
    from: TWILIO.from,
    messagingServiceSid: TWILIO.messagingServiceSid,
    deliveryDelayMs: 30,
    mps: 1_000,
    ...rest,
  });
  const server = createSandboxServer(sandbox, { logger: silentLogger, rateLimits: rateLimits ?? true });
  const listening = await listen(server.server, 0, '127.0.0.1');
  return {
    sandbox,
    server,
    world,
    origin: listening.origin,
    baseUrl: `${listening.origin}/2010-04-01`,
    close: listening.close,
  };
}

export interface CapturedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP endpoint that answers every POST 200 and keeps what it received (an app's status callback URL). */
export async function startCapture(): Promise<Listening & { received: CapturedRequest[] }> {
  const received: CapturedRequest[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '/', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'text/xml' }).end('<Response/>');
    });
  });
  const listening = await listen(server, 0, '127.0.0.1');
  return { ...listening, received };
}

/** A customer's (or anyone's) text to the demo number, stored as the sandbox receives it. */
export function textFrom(world: World, phone: string, body: string, at = Date.now()) {
  return receiveText(world, { accountSid: TWILIO.accountSid, sender: TWILIO.from, phone, body, at });
}
