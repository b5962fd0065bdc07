/**
 * Imported first by every entry point (and by the gateway module itself), before @apollo/gateway is
 * loaded: @apollo/gateway 2.14 starts an hourly metrics exporter to Apollo's usage-reporting
 * endpoint, and probes the AWS, GCP, Azure and Alibaba metadata addresses to describe the host,
 * unless `APOLLO_TELEMETRY_DISABLED` is `true` or `1`. A gateway that keeps customer data makes no
 * call the operator did not configure, so it is off unless the operator sets
 * `APOLLO_TELEMETRY_DISABLED=false` (or `0`, `off`, `no`) explicitly. Any other value, `yes` and
 * typos included, is normalised to `true`, the spelling Apollo checks for.
 */
const OPT_IN = new Set(['false', '0', 'off', 'no']);

const given = process.env['APOLLO_TELEMETRY_DISABLED']?.trim().toLowerCase() ?? '';
if (!OPT_IN.has(given)) process.env['APOLLO_TELEMETRY_DISABLED'] = 'true';

export const apolloTelemetryDisabled = process.env['APOLLO_TELEMETRY_DISABLED'] === 'true';
