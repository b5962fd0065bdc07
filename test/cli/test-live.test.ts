import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_CONTRACTS } from '../../platforms/contracts.js';
import { PLATFORMS } from '../../platforms/registry.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox.js';

/**
 * `npm run test:live` (scripts/test-live.ts): a platform without credentials is skipped with a
 * printed reason; one with credentials has its contract run by vitest against the API they point
 * at. Here that "live" API is the Mailchimp sandbox on a free port (the real one needs a real
 * key), once with the key it accepts and once with a wrong one, which must fail the run.
 */
const run = promisify(execFile);
const LIVE_VARIABLES = new Set(PLATFORM_CONTRACTS.flatMap((contract) => contract.liveVariables));

/** The environment without any platform credential, plus `extra`. */
function envWith(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !LIVE_VARIABLES.has(name) && !name.startsWith('VITEST')),
  );
  return { ...env, ...extra };
}

const testLive = (env: NodeJS.ProcessEnv) =>
  run('npx', ['tsx', 'scripts/test-live.ts'], { env, timeout: 120_000 }).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (error: { code?: number; stdout?: string }) => ({ code: error.code ?? 1, stdout: error.stdout ?? '' }),
  );

describe('npm run test:live', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox('mailchimp', { customers: 20 });
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('should skip every platform without credentials, saying which variables are missing', async () => {
    const { code, stdout } = await testLive(envWith({}));
    expect(code).toBe(0);
    for (const contract of PLATFORM_CONTRACTS)
      expect(stdout).toContain(`skip ${contract.platform}: ${contract.liveVariables.join(', ')} not set`);
    expect(stdout).toContain('nothing to check against a live API');
  });

  it("should run a platform's contract against the API its credentials point at, and fail on a refusal", async () => {
    const demo = PLATFORMS.find((p) => p.name === 'mailchimp')!.sandbox.connection(sandbox.origin) as {
      baseUrl: string;
      apiKey: string;
      listId: string;
    };
    const live = {
      MAILCHIMP_BASE_URL: demo.baseUrl,
      MAILCHIMP_API_KEY: demo.apiKey,
      MAILCHIMP_LIST_ID: demo.listId,
    };
    const passed = await testLive(envWith(live));
    expect(passed.stdout).toContain('run  mailchimp: 2 calls');
    expect(passed.stdout).toContain('skip hubspot: HUBSPOT_ACCESS_TOKEN not set');
    expect(passed.stdout).toMatch(/mailchimp GET \/3\.0\/lists\/\{list_id\}\/members: ok \(2 items\)/);
    expect(passed.code).toBe(0);

    const refused = await testLive(envWith({ ...live, MAILCHIMP_API_KEY: 'wrong-us1' }));
    expect(refused.stdout).toContain('FAILED');
    expect(refused.code).not.toBe(0);
  });
});

/** Twilio's contract the same way: its sandbox as the "live" API, reached with an API key. */
describe('npm run test:live for Twilio', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox('twilio', { customers: 20 });
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it('should run the Twilio contract with an API key, and fail when the key is refused', async () => {
    const demo = PLATFORMS.find((p) => p.name === 'twilio')!.sandbox.connection(sandbox.origin) as {
      baseUrl: string;
      credentials: { accountSid: string; apiKeySid: string; apiKeySecret: string };
      from: string;
    };
    const live = {
      TWILIO_BASE_URL: demo.baseUrl,
      TWILIO_ACCOUNT_SID: demo.credentials.accountSid,
      TWILIO_API_KEY_SID: demo.credentials.apiKeySid,
      TWILIO_API_KEY_SECRET: demo.credentials.apiKeySecret,
      TWILIO_FROM: demo.from,
    };
    const passed = await testLive(envWith(live));
    expect(passed.stdout).toContain('run  twilio: 3 calls');
    expect(passed.stdout).toMatch(
      /twilio GET \/2010-04-01\/Accounts\/\{sid\}\/Messages\.json \(PageSize=2\): ok \(2 items\)/,
    );
    expect(passed.stdout).toMatch(/twilio GET .*Messages\/\{message_sid\}\.json .*: ok/);
    expect(passed.code).toBe(0);

    const refused = await testLive(envWith({ ...live, TWILIO_API_KEY_SECRET: 'not-the-secret' }));
    expect(refused.stdout).toContain('FAILED');
    expect(refused.code).not.toBe(0);
  });
});
