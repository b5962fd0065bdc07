export function createMailchimpSandbox(_options: unknown): never {
  throw new Error('mailchimp sandbox is being written');
}
