import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalog, type CatalogName } from '../../platforms/catalog.js';
import { PLATFORM_DOCS } from '../../scripts/docs/platforms.js';
import { DATA_FLOWS_FILE, renderDataFlows } from '../../scripts/docs/render-data-flows.js';

/** docs/data-flows.md is generated from the schema and the code and committed: it must match them. */
describe('the data-flow documentation is fresh', () => {
  it('should equal a fresh generation from the schema and the code (npm run docs)', async () => {
    const fresh = await renderDataFlows(process.cwd());
    expect(readFileSync(DATA_FLOWS_FILE, 'utf8'), `${DATA_FLOWS_FILE} is stale: run npm run docs`).toBe(
      fresh,
    );
  });

  it('should name every platform subgraph, its upstream scopes and its webhook endpoint', async () => {
    const doc = await renderDataFlows(process.cwd());
    for (const expected of [
      '## HubSpot: CRM (`crm` subgraph)',
      '## Mailchimp: email (`email` subgraph)',
      '## Shopify: commerce (`commerce` subgraph)',
      '## Meta: ads (`ads` subgraph)',
      '`crm.objects.contacts.read` `crm.lists.read`',
      '`read_customers` `read_orders` `read_all_orders`',
      '`ads_read`',
      '`POST /webhooks/hubspot`',
      '`POST /webhooks/site`',
      '```mermaid',
    ])
      expect(doc).toContain(expected);
  });

  it("should match each credential's description in the configuration catalog to the connector's scopes", () => {
    // The README's configuration table says which scopes to grant; it must not drift from the code.
    for (const doc of PLATFORM_DOCS)
      for (const scope of doc.credential.scopes)
        expect(
          catalog[doc.credential.variable as CatalogName].description,
          doc.credential.variable,
        ).toContain(scope);
  });
});
