export { createShopifySandbox, type ShopifySandboxOptions } from './sandbox.js';
