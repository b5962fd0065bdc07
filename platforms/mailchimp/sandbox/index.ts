export { createMailchimpSandbox, type MailchimpSandboxOptions } from './sandbox.js';
