import { describe, expect, it } from 'vitest';
import {
  headerFreeStorage,
  memoryStorage,
  prepareTabs,
  withoutHeaders,
  type WebStorage,
} from '../../gateway/explorer/browser/storage.js';

/**
 * What the explorer lets GraphiQL keep in the browser: never the Headers (the key), and tabs that
 * GraphiQL reopens as they were. The browser test drives the same code in Chromium; these check
 * each rule on its own, with the writes GraphiQL 4 makes.
 */

const KEY = 'mgk_dau13vogvt5k_KY08oXpthMyd3DgRRB_AJ2BtGt7MB7an44vbPL1EPXE';
const HEADERS = JSON.stringify({ authorization: `Bearer ${KEY}` });

function everything(storage: WebStorage): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < storage.length; i++) {
    const key = storage.key(i)!;
    out[key] = storage.getItem(key)!;
  }
  return out;
}

const tab = (query: string, variables: string | null, headers: string | null = HEADERS) => ({
  id: query,
  hash: 'h',
  title: 'T',
  query,
  variables,
  headers,
  operationName: null,
  response: '{"data":{}}',
});

describe('headerFreeStorage: GraphiQL storage without the caller key', () => {
  it('should keep the headers out of the tabs, the history, the favourites and their own entry', () => {
    const backing = memoryStorage();
    const storage = headerFreeStorage(backing);
    storage.setItem('graphiql:headers', HEADERS);
    storage.setItem('graphiql:tabState', JSON.stringify({ activeTabIndex: 0, tabs: [tab('{ a }', null)] }));
    const entry = { query: '{ a }', variables: '{}', headers: HEADERS, operationName: 'A' };
    storage.setItem('graphiql:queries', JSON.stringify({ queries: [entry] }));
    storage.setItem('graphiql:favorites', JSON.stringify({ favorites: [{ ...entry, favorite: true }] }));
    storage.setItem('graphiql:query', '{ a }');

    const stored = everything(backing);
    expect(Object.entries(stored).filter(([, value]) => value.includes(KEY))).toEqual([]);
    expect(Object.keys(stored).sort()).toEqual([
      'graphiql:favorites',
      'graphiql:queries',
      'graphiql:query',
      'graphiql:tabState',
    ]);
    expect(JSON.parse(stored['graphiql:queries']!)).toEqual({
      queries: [{ query: '{ a }', variables: '{}', operationName: 'A' }],
    });
    expect(JSON.parse(stored['graphiql:tabState']!).tabs[0]).toMatchObject({ query: '{ a }', headers: null });
  });

  it('should store nothing for a tabs or history value it cannot read, rather than risk a key', () => {
    expect(withoutHeaders('graphiql:tabState', `{"tabs": "${KEY}"}`)).toBeUndefined();
    expect(withoutHeaders('graphiql:queries', `not json ${KEY}`)).toBeUndefined();
    expect(withoutHeaders('graphiql:theme', 'dark')).toBe('dark');
  });

  it('should clean what an older explorer stored with the key in it, as soon as the page starts', () => {
    const backing = memoryStorage();
    backing.setItem('graphiql:headers', HEADERS);
    backing.setItem('graphiql:queries', JSON.stringify({ queries: [{ query: '{ a }', headers: HEADERS }] }));
    backing.setItem('unrelated', 'kept');
    headerFreeStorage(backing);
    expect(Object.values(everything(backing)).some((value) => value.includes(KEY))).toBe(false);
    expect(backing.getItem('unrelated')).toBe('kept');
  });

  it("should clear only GraphiQL's own entries", () => {
    const backing = memoryStorage();
    backing.setItem('other-app', 'x');
    const storage = headerFreeStorage(backing);
    storage.setItem('graphiql:query', '{ a }');
    expect(storage.length).toBe(1);
    storage.clear();
    expect(everything(backing)).toEqual({ 'other-app': 'x' });
  });
});

describe('prepareTabs: the tabs GraphiQL opens with', () => {
  const starting = {
    query: '# Welcome\nquery Customers($first: Int! = 5) { __typename }',
    variables: '{"first": 5}',
  };

  it('should open a first visit on the starting tab, with its variables where GraphiQL reads them', () => {
    const storage = headerFreeStorage(memoryStorage());
    prepareTabs(storage, starting);
    const state = JSON.parse(storage.getItem('graphiql:tabState')!);
    expect(state.activeTabIndex).toBe(0);
    expect(state.tabs).toEqual([
      expect.objectContaining({
        title: 'Customers',
        query: starting.query,
        variables: starting.variables,
        headers: null,
      }),
    ]);
    expect(storage.getItem('graphiql:query')).toBe(starting.query);
    expect(storage.getItem('graphiql:variables')).toBe(starting.variables);
  });

  it('should leave stored tabs as they are and point the editors at the active one', () => {
    const storage = headerFreeStorage(memoryStorage());
    const tabs = [tab('{ first }', null, null), tab('{ second }', '{"x": 1}', null)];
    storage.setItem('graphiql:tabState', JSON.stringify({ activeTabIndex: 1, tabs }));
    storage.setItem('graphiql:query', '{ something else }');
    prepareTabs(storage, starting);
    prepareTabs(storage, starting);
    const state = JSON.parse(storage.getItem('graphiql:tabState')!);
    expect(state.tabs.map((t: { query: string }) => t.query)).toEqual(['{ first }', '{ second }']);
    expect(storage.getItem('graphiql:query')).toBe('{ second }');
    expect(storage.getItem('graphiql:variables')).toBe('{"x": 1}');
  });

  it('should start over from the starting tab when the stored tabs cannot be read', () => {
    const storage = headerFreeStorage(memoryStorage());
    storage.setItem('graphiql:tabState', JSON.stringify({ activeTabIndex: 0, tabs: [] }));
    prepareTabs(storage, starting);
    expect(JSON.parse(storage.getItem('graphiql:tabState')!).tabs).toHaveLength(1);
  });
});
