import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRoutingRules, route, RoutingError } from '../../events/routing.js';
import { ConfigError } from '../../lib/config/env.js';
import type { StoredEvent } from '../../lib/events/event.js';
import { incomingEvent } from './log-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'mg-routing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rulesFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const order = (totalPrice: string | undefined): StoredEvent => ({
  ...incomingEvent({ type: 'ORDER_PLACED', source: 'shopify' }),
  properties: totalPrice === undefined ? {} : { totalPrice },
  id: 'evt-1',
});

describe('routing rules', () => {
  it('should load the demo rules file', () => {
    const rules = loadRoutingRules(new URL('../../events/demo-routing.yaml', import.meta.url).pathname);
    expect(rules.map((rule) => rule.channel)).toEqual([
      'high-value-orders',
      'new-leads',
      'vip',
      'churn-risk',
    ]);
  });

  it('should name the rule and the field of every mistake in the file', () => {
    const path = rulesFile(
      'bad.yaml',
      [
        'rules:',
        '  - name: big orders',
        '    channel: Big Orders',
        '    when: { types: [ORDER_SHIPPED], orderTotalAtLeast: 200 }',
      ].join('\n'),
    );
    let error: unknown;
    try {
      loadRoutingRules(path);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems.every((p) => p.includes('rules[0] (name "big orders")'))).toBe(true);
    expect(problems.some((p) => p.includes('.channel:'))).toBe(true);
    expect(problems.some((p) => p.includes('.when.types.0:'))).toBe(true);
    expect(problems.some((p) => p.includes('.when.orderTotalAtLeast:'))).toBe(true);
  });

  it('should say when the file cannot be read or parsed', () => {
    expect(() => loadRoutingRules(join(dir, 'missing.yaml'))).toThrow(/cannot read it/);
    expect(() => loadRoutingRules(rulesFile('broken.json', '{ "rules": ['))).toThrow(ConfigError);
  });

  it('should route by order total with decimal arithmetic, and refuse an order without a total', () => {
    const rules = loadRoutingRules(
      rulesFile(
        'orders.yaml',
        "rules:\n  - { name: big, channel: big, when: { types: [ORDER_PLACED], orderTotalAtLeast: '200.00' } }\n",
      ),
    );
    expect(route(rules, order('200.00'), null)).toEqual(['big']);
    expect(route(rules, order('199.99'), null)).toEqual([]);
    expect(() => route(rules, order(undefined), null)).toThrow(RoutingError);
  });
});
