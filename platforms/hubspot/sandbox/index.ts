export { createHubSpotSandbox, type HubSpotSandboxOptions } from './sandbox.js';
