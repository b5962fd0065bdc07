export { createMetaSandbox, type MetaSandboxOptions } from './sandbox.js';
