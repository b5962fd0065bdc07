export { createTwilioSandbox, type TwilioSandbox, type TwilioSandboxOptions } from './sandbox.js';
