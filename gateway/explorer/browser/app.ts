import 'graphiql/style.css';
import './explorer.css';
import { useEditorContext, usePluginStore, useSchemaStore } from '@graphiql/react';
import type { Storage as GraphiQLStorage } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { createElement as h, useEffect, useMemo, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { PAGE_CONFIG_ELEMENT_ID, pageConfigSchema, type PageConfig } from '../page-config.js';
import { EXAMPLES_TITLE, examplesPlugin } from './examples-pane.js';
import { createExplorerFetcher } from './fetcher.js';
import { INTROSPECTION_OPERATION, noticeFor, type SchemaAccess } from './schema-access.js';
import {
  headerFreeStorage,
  memoryStorage,
  prepareTabs,
  type StartingTab,
  type WebStorage,
} from './storage.js';

/** How long the Headers editor must be still before the schema is loaded again with the new key. */
const HEADERS_SETTLE_MS = 400;

/** The first tab of a first visit: how to start, and the first example query, ready to run. */
function welcomeTab(config: PageConfig): StartingTab {
  const first = config.examples.flatMap((file) => file.operations).find((o) => o.kind === 'query');
  const query = [
    // Short lines: the editor is narrow while the Examples pane is open.
    '# marketing-graph explorer',
    '#',
    '# 1. Paste your API key into Headers',
    '#    (below).',
    '# 2. Open an example (Examples pane)',
    '#    or write an operation.',
    '# 3. Run it: ▶ or Ctrl-Enter.',
    '#    Subscriptions stream events here',
    '#    until you press ■.',
    '',
    first ? first.document : '',
  ].join('\n');
  return { query, variables: first?.variables ?? '' };
}

/** `localStorage`, or memory when the browser refuses it (storage disabled for the site). */
function browserStorage(): WebStorage {
  try {
    const storage = window.localStorage;
    storage.getItem(PAGE_CONFIG_ELEMENT_ID);
    return storage;
  } catch {
    return memoryStorage();
  }
}

/**
 * Empties the result pane when the person edits the headers: an answer to the old headers (a 401
 * before the key was pasted) would otherwise stay on screen as if it were the new key's. Edits by
 * GraphiQL itself (switching tabs, opening a history entry) set the value and are left alone.
 */
function ClearResultOnHeadersEdit() {
  const { headerEditor, responseEditor } = useEditorContext({ nonNull: true });
  useEffect(() => {
    if (!headerEditor || !responseEditor) return;
    const onChange = (_editor: unknown, change: { origin?: string | undefined }) => {
      if (change.origin !== 'setValue' && responseEditor.getValue() !== '') responseEditor.setValue('');
    };
    headerEditor.on('change', onChange);
    return () => headerEditor.off('change', onChange);
  }, [headerEditor, responseEditor]);
  return null;
}

function SchemaNotice(props: { access: SchemaAccess; introspectionForAll: boolean }) {
  const notice = noticeFor(props.access);
  if (!notice) return null;
  return h(
    'div',
    {
      className: `explorer-notice explorer-notice-${notice.tone}`,
      role: notice.tone === 'error' ? 'alert' : 'status',
      'data-access': props.access.kind,
    },
    h('strong', null, notice.title),
    ' ',
    h('span', null, notice.text),
    props.introspectionForAll && props.access.kind !== 'no-key'
      ? h('span', null, ' (This gateway runs in development mode: any valid key may read the schema.)')
      : null,
  );
}

function Explorer(props: { config: PageConfig; storage: GraphiQLStorage }) {
  const { config, storage } = props;
  const [access, setAccess] = useState<SchemaAccess>({ kind: 'loading' });
  // Undefined until the Headers editor is first edited.
  const [headers, setHeaders] = useState<string>();
  const introspect = useSchemaStore((state) => state.introspect);
  const fetcher = useMemo(
    () =>
      createExplorerFetcher({
        endpoint: new URL(config.endpoint, window.location.href),
        onSchemaAccess: setAccess,
      }),
    [config.endpoint],
  );
  // One plugin list for the page's life: GraphiQL resets the visible pane when the list changes.
  const plugins = useMemo(() => [examplesPlugin(config.examples)], [config.examples]);

  // GraphiQL 4 sizes the plugin pane on its first render, before a `visiblePlugin` prop reaches its
  // store, so the prop leaves the pane collapsed; opening it the way a click does sets both, once
  // the sidebar shows the plugins.
  const registeredPlugins = usePluginStore((state) => state.plugins.length);
  const examplesOpened = useRef(false);
  useEffect(() => {
    if (registeredPlugins === 0 || examplesOpened.current) return;
    examplesOpened.current = true;
    document
      .querySelector<HTMLButtonElement>(`.graphiql-sidebar button[aria-label="Show ${EXAMPLES_TITLE}"]`)
      ?.click();
  }, [registeredPlugins]);

  // GraphiQL loads the schema once; a key pasted later should load it (or say why not) at once.
  useEffect(() => {
    if (headers === undefined) return;
    const timer = window.setTimeout(() => void introspect(), HEADERS_SETTLE_MS);
    return () => window.clearTimeout(timer);
  }, [headers, introspect]);

  return h(
    'div',
    // The state in the DOM too, for people's tools and the browser test.
    { className: 'explorer', 'data-schema-access': access.kind },
    h(SchemaNotice, { access, introspectionForAll: config.introspectionForAll }),
    h(
      'div',
      { className: 'explorer-graphiql' },
      h(
        GraphiQL,
        {
          fetcher,
          plugins,
          introspectionQueryName: INTROSPECTION_OPERATION,
          defaultHeaders: config.defaultHeaders,
          // The tabs come from storage, which `prepareTabs` fills with the first tab on a first visit.
          storage,
          defaultEditorToolsVisibility: 'headers',
          // Keys stay out of localStorage: a shared machine must not keep them. The storage drops
          // headers from the history and the tabs too, which this setting alone does not.
          shouldPersistHeaders: false,
          showPersistHeadersSettings: false,
          onEditHeaders: setHeaders,
        },
        h(GraphiQL.Logo, null, 'marketing-graph'),
        h(ClearResultOnHeadersEdit),
      ),
    ),
  );
}

function readConfig(): PageConfig {
  const element = document.getElementById(PAGE_CONFIG_ELEMENT_ID);
  const parsed = pageConfigSchema.safeParse(JSON.parse(element?.textContent ?? 'null'));
  if (!parsed.success) throw new Error(`the page configuration is not valid: ${parsed.error.message}`);
  return parsed.data;
}

const root = document.getElementById('explorer');
if (root) {
  try {
    const config = readConfig();
    const storage = headerFreeStorage(browserStorage());
    prepareTabs(storage, welcomeTab(config));
    createRoot(root).render(h(Explorer, { config, storage }));
  } catch (error) {
    root.textContent = `The explorer could not start: ${(error as Error).message}`;
  }
}
