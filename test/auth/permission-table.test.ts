import { describe, expect, it } from 'vitest';
import { buildLayers, PERMISSION_TABLE, type PermissionRow } from '../helpers/permission-table.js';

/**
 * Authorization is declared once (the SDL) and interpreted once (lib/auth/requirements.ts): the
 * gateway and the subgraph give the same answer for every field and scope set of one table,
 * whichever way the SDL spells its declarations.
 */
describe('one permission table, both layers', () => {
  const layers = buildLayers();
  const label = (row: PermissionRow) =>
    `${row.coordinate} with [${row.scopes.join(' ')}] -> ${row.allowed ? 'allowed' : 'denied'}`;

  it('should carry the renamed directives into the supergraph the gateway reads', () => {
    expect(layers.supergraph).toContain('import: [{name: "@requiresScopes", as: "@scopes"}]');
    expect(layers.supergraph).toContain('account: Account @scopes(scopes: "crm:read")');
  });

  it.each(PERMISSION_TABLE.map((row) => [label(row), row] as const))(
    'should decide %s at the gateway',
    (_label, row) => {
      expect(layers.gateway(row)).toBe(row.allowed);
    },
  );

  it.each(PERMISSION_TABLE.map((row) => [label(row), row] as const))(
    'should decide %s in the subgraph',
    async (_label, row) => {
      expect(await layers.subgraph(row)).toBe(row.allowed);
    },
  );

  it('should allow and deny something with every scope set (the table can fail both ways)', () => {
    const allowed = PERMISSION_TABLE.filter((r) => r.allowed).length;
    expect(allowed).toBeGreaterThan(10);
    expect(PERMISSION_TABLE.length - allowed).toBeGreaterThan(10);
  });
});
