import { defineConfig } from '@graphql-hive/gateway';

/** The peer's configuration in The Guild's benchmark (gateways/hive-gateway/gateway.config.ts there). */
export const gatewayConfig = defineConfig({
  inboundInflightRequestDeduplication: true,
});
