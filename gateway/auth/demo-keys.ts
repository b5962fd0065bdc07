/**
 * PUBLIC DEMO CREDENTIALS. These API keys are published in this repository and the README so that
 * anyone can try the embedded demo (`npm start`); they prove nothing about who is calling. Their
 * hashes are in `gateway/auth/demo-clients.json`, marked `"demo": true`, and the gateway refuses to
 * start with any of them when NODE_ENV=production (see production-guard.ts). Never put a real key
 * in this file.
 */
export const DEMO_API_KEYS = {
  /** Scopes `campaigns:read ads:read`: campaign performance, no personal data, no profiles. */
  'reporting-dashboard': 'mgk_oifa9kiur8f9_sOtK7BY6_jC5gVNkz5SCiK2_N0wm2fRQv3o1YZaTRjA',
  /** Scopes `crm:read pii:read email:read commerce:read events:read`: profiles including personal data, and events. */
  'personalization-service': 'mgk_30kttkken7c0_hd9W4lxsM-r64q1vjnnzFVu_qdTenzdR8fMaD8b1ius',
  /** Scopes `crm:read email:read commerce:read events:read`: events with customer context, no personal data. */
  'marketing-automation': 'mgk_hnqo5uth2hpm_XWZg-gunHR36eKYgnnfemheHkPRss4UpArVk4MqeMHw',
  /** Every scope. */
  admin: 'mgk_dau13vogvt5k_KY08oXpthMyd3DgRRB_AJ2BtGt7MB7an44vbPL1EPXE',
} as const;

export type DemoClientId = keyof typeof DEMO_API_KEYS;
