import { useEditorContext, type GraphiQLPlugin } from '@graphiql/react';
import { createElement as h } from 'react';
import type { ExampleFile, ExampleOperation } from '../page-config.js';

export const EXAMPLES_TITLE = 'Examples';

/** `personalization-service` → `Personalization service`: the kind of user a file is written for. */
function titleOf(file: string): string {
  const words = file.replace(/[-_]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function ExampleButton(props: { example: ExampleOperation }) {
  const { queryEditor, variableEditor, setOperationName } = useEditorContext({ nonNull: true });
  const { example } = props;
  // Into the open tab, as GraphiQL's history does; the Headers tab (the key) is left as it is.
  const open = () => {
    queryEditor?.setValue(example.document);
    variableEditor?.setValue(example.variables);
    // GraphiQL reads the operation name from the editor after a debounce; a run within it would
    // send the new document under the old tab's operation name ("no operation named Customers").
    setOperationName(example.name);
  };
  return h(
    'li',
    null,
    h(
      'button',
      {
        type: 'button',
        className: 'explorer-example',
        onClick: open,
        'data-operation': example.name,
      },
      h(
        'span',
        { className: 'explorer-example-heading' },
        h('span', { className: 'explorer-example-name' }, example.name),
        h('span', { className: 'explorer-example-kind' }, example.kind),
      ),
      example.description ? h('span', { className: 'explorer-example-text' }, example.description) : null,
      example.client || example.scopes.length > 0
        ? h(
            'span',
            { className: 'explorer-example-meta' },
            [
              example.client ? `as ${example.client}` : '',
              example.scopes.length > 0 ? `needs ${example.scopes.join(' ')}` : '',
            ]
              .filter(Boolean)
              .join(' · '),
          )
        : null,
    ),
  );
}

function ExamplesContent(props: { examples: readonly ExampleFile[] }) {
  return h(
    'div',
    { className: 'explorer-examples' },
    h('div', { className: 'graphiql-doc-explorer-title' }, 'Examples'),
    h(
      'p',
      { className: 'explorer-examples-intro' },
      'Operations each kind of user runs (docs/operations). Click one to open it in this tab, then run it.',
    ),
    props.examples.length === 0
      ? h('p', null, 'This gateway has no example operations (docs/operations is empty).')
      : props.examples.map((file) =>
          h(
            'section',
            { key: file.file, 'aria-label': titleOf(file.file) },
            h('h3', null, titleOf(file.file)),
            h(
              'ul',
              null,
              file.operations.map((example) => h(ExampleButton, { key: example.name, example })),
            ),
          ),
        ),
  );
}

function ExamplesIcon() {
  return h(
    'svg',
    { viewBox: '0 0 24 24', fill: 'none', stroke: 'currentColor', strokeWidth: 1.5, 'aria-hidden': true },
    h('path', { d: 'M4 5h16M4 10h16M4 15h10M4 20h7', strokeLinecap: 'round' }),
  );
}

/** A sidebar pane beside Docs and History listing the example operations of each kind of user. */
export function examplesPlugin(examples: readonly ExampleFile[]): GraphiQLPlugin {
  return {
    title: EXAMPLES_TITLE,
    icon: ExamplesIcon,
    content: () => h(ExamplesContent, { examples }),
  };
}
