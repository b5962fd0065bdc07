export function createMetaSandbox(_options: unknown): never {
  throw new Error('meta sandbox is being written');
}
