export function createShopifySandbox(_options: unknown): never {
  throw new Error('shopify sandbox is being written');
}
