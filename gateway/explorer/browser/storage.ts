import type { Storage as GraphiQLStorage } from '@graphiql/toolkit';
import { z } from 'zod';

/**
 * What the explorer keeps in the browser between visits: the tabs, their queries and variables, the
 * history and the layout, never the Headers (the caller's key). GraphiQL's `shouldPersistHeaders:
 * false` covers only its own `headers` entry and the tabs; its history plugin stores every run with
 * its headers regardless. So every write passes through here, and headers are dropped from the
 * tabs, the history and the favourites before anything reaches `localStorage`.
 */

/** GraphiQL prefixes every name it stores with this. */
const NAMESPACE = 'graphiql:';
const TABS = `${NAMESPACE}tabState`;
const QUERY = `${NAMESPACE}query`;
const VARIABLES = `${NAMESPACE}variables`;
/** The Headers editor's own entry: written only when headers persist, which we never allow. */
const HEADERS = `${NAMESPACE}headers`;
/** History and favourites, each stored as `{ "<name>": [entry, ...] }`. */
const ENTRY_LISTS: Readonly<Record<string, 'queries' | 'favorites'>> = {
  [`${NAMESPACE}queries`]: 'queries',
  [`${NAMESPACE}favorites`]: 'favorites',
};

/** The part of the Web Storage API used here (`localStorage`, or memory when it is unavailable). */
export interface WebStorage {
  readonly length: number;
  key(index: number): string | null;
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** One tab as GraphiQL 4 stores it (`tabState`); it drops the whole state when a field is off. */
const storedTabSchema = z.object({
  id: z.string(),
  title: z.string(),
  query: z.string().nullable(),
  variables: z.string().nullable(),
  headers: z.string().nullable(),
  operationName: z.string().nullable(),
  response: z.string().nullable(),
});
type StoredTab = z.infer<typeof storedTabSchema>;
const tabStateSchema = z.object({
  activeTabIndex: z.number().int(),
  tabs: z.array(storedTabSchema.loose()),
});
const entryListSchema = z.array(z.record(z.string(), z.unknown()));

/**
 * The value to store for `key`, with any headers taken out; undefined when nothing may be stored
 * (the headers entry, or a tabs or history value in a shape we cannot check: better lost than a
 * key left behind).
 */
export function withoutHeaders(key: string, value: string): string | undefined {
  if (key === HEADERS) return undefined;
  const list = ENTRY_LISTS[key];
  if (key !== TABS && list === undefined) return value;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (key === TABS) {
    const state = tabStateSchema.safeParse(parsed);
    if (!state.success) return undefined;
    return JSON.stringify({
      ...state.data,
      tabs: state.data.tabs.map((tab) => ({ ...tab, headers: null, response: null })),
    });
  }
  const entries = entryListSchema.safeParse((parsed as Record<string, unknown> | null)?.[list!]);
  if (!entries.success) return undefined;
  return JSON.stringify({ [list!]: entries.data.map(({ headers: _headers, ...entry }) => entry) });
}

/** Memory standing in for `localStorage` when the browser refuses it (storage disabled). */
export function memoryStorage(): WebStorage {
  const items = new Map<string, string>();
  return {
    get length() {
      return items.size;
    },
    key: (index) => [...items.keys()][index] ?? null,
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, String(value)),
    removeItem: (key) => void items.delete(key),
  };
}

function namespacedKeys(backing: WebStorage): string[] {
  const keys: string[] = [];
  for (let i = 0; i < backing.length; i++) {
    const key = backing.key(i);
    if (key?.startsWith(NAMESPACE)) keys.push(key);
  }
  return keys;
}

function put(backing: WebStorage, key: string, value: string): void {
  const kept = withoutHeaders(key, value);
  if (kept === undefined) backing.removeItem(key);
  else backing.setItem(key, kept);
}

/**
 * GraphiQL's `storage`: `backing` with headers kept out of every write. Values an older explorer
 * stored with a key in them are cleaned at once.
 */
export function headerFreeStorage(backing: WebStorage): GraphiQLStorage {
  for (const key of namespacedKeys(backing)) {
    const value = backing.getItem(key);
    if (value !== null) put(backing, key, value);
  }
  return {
    getItem: (key) => backing.getItem(key),
    setItem: (key, value) => put(backing, key, value),
    removeItem: (key) => backing.removeItem(key),
    // GraphiQL's "Clear storage" clears its own entries only, as its default storage does.
    clear: () => {
      for (const key of namespacedKeys(backing)) backing.removeItem(key);
    },
    get length() {
      return namespacedKeys(backing).length;
    },
  };
}

/** What the first tab of a first visit holds. */
export interface StartingTab {
  query: string;
  variables: string;
}

/** The operation name GraphiQL titles a tab with (its own rule: the first `query Name` not in a comment). */
function titleOf(query: string): string {
  return /^(?!#).*(?:query|subscription|mutation)\s+(\w+)/m.exec(query)?.[1] ?? '<untitled>';
}

function tabId(): string {
  // Not crypto.randomUUID: it exists only in secure contexts, and the gateway may be served over http.
  return Array.from({ length: 4 }, () => Math.random().toString(16).slice(2, 10)).join('-');
}

function storedTabs(storage: GraphiQLStorage): { activeTabIndex: number; tabs: StoredTab[] } | undefined {
  try {
    const parsed = tabStateSchema.safeParse(JSON.parse(storage.getItem(TABS) ?? 'null'));
    return parsed.success && parsed.data.tabs.length > 0 ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes the stored tabs the ones GraphiQL opens with, before it reads them. On a first visit that is
 * one tab with `starting` (its query and its variables). On every visit, the stored query and
 * variables are set to the active tab's: GraphiQL fills its editors from those two entries, not
 * from the tab (so a first tab's variables never reached the editor, and the example ran without
 * them), and it adds a new tab whenever they differ from every stored tab (so each reload added a
 * copy of the first tab).
 */
export function prepareTabs(storage: GraphiQLStorage, starting: StartingTab): void {
  let state = storedTabs(storage);
  if (!state) {
    const tab: StoredTab = {
      id: tabId(),
      title: titleOf(starting.query),
      query: starting.query,
      variables: starting.variables || null,
      headers: null,
      operationName: null,
      response: null,
    };
    state = { activeTabIndex: 0, tabs: [tab] };
    storage.setItem(TABS, JSON.stringify(state));
  }
  const index = Math.min(Math.max(state.activeTabIndex, 0), state.tabs.length - 1);
  const active = state.tabs[index]!;
  if (index !== state.activeTabIndex)
    storage.setItem(TABS, JSON.stringify({ ...state, activeTabIndex: index }));
  for (const [key, value] of [
    [QUERY, active.query],
    [VARIABLES, active.variables],
  ] as const) {
    if (value) storage.setItem(key, value);
    else storage.removeItem(key);
  }
}
