import { PLATFORMS, type PlatformDescriptors } from '../platforms/registry.js';

/** Each platform's demo credentials, by platform name. */
export type DemoCredentialsTable = {
  [P in PlatformDescriptors as P['name']]: P['sandbox']['demoCredentials'];
};

/**
 * DEMO CREDENTIALS: not secrets. Only the embedded sandboxes accept them; the real platforms do not
 * know them. Each platform's are in its folder (`platforms/<name>/demo.ts`) and its descriptor's
 * `sandbox.demoCredentials`; `npm start` wires the subgraphs to the sandboxes with them (through
 * `sandbox.connection`) so the demo runs offline. This table reads them from the registry, for the
 * tests and tools that call a sandbox themselves.
 */
export const DEMO_CREDENTIALS = Object.fromEntries(
  PLATFORMS.map((platform) => [platform.name, platform.sandbox.demoCredentials]),
) as DemoCredentialsTable;
