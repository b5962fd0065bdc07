import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { prefersHtml } from '../../gateway/explorer/accept.js';
import { noticeFor, schemaAccessFrom } from '../../gateway/explorer/browser/schema-access.js';
import { examplesOn, loadExamples } from '../../gateway/explorer/examples.js';
import { renderPage } from '../../gateway/explorer/page.js';
import {
  DEFAULT_HEADERS,
  PAGE_CONFIG_ELEMENT_ID,
  pageConfigSchema,
  type PageConfig,
} from '../../gateway/explorer/page-config.js';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8';

describe('prefersHtml: which GET /graphql requests get the explorer', () => {
  it('should give the page to a browser opening the URL', () => {
    expect(prefersHtml(BROWSER_ACCEPT)).toBe(true);
    expect(prefersHtml('text/html')).toBe(true);
    expect(prefersHtml('text/html, application/json;q=0.9')).toBe(true);
  });

  it('should leave GraphQL clients, curl and ties to GraphQL', () => {
    expect(prefersHtml(undefined)).toBe(false);
    expect(prefersHtml('*/*')).toBe(false);
    expect(prefersHtml('application/json')).toBe(false);
    expect(prefersHtml('application/graphql-response+json, application/json;q=0.9')).toBe(false);
    expect(prefersHtml('text/html, application/json')).toBe(false);
    expect(prefersHtml('application/json, text/html;q=0.1')).toBe(false);
    expect(prefersHtml('text/html;q=0')).toBe(false);
  });
});

describe('schemaAccessFrom: why the explorer has no schema', () => {
  const key = { authorization: 'Bearer mgk_abc_def' };

  it('should see a schema in a successful introspection', () => {
    expect(schemaAccessFrom({ status: 200, body: { data: { __schema: { types: [] } } } }, key)).toEqual({
      kind: 'readable',
    });
  });

  it('should tell a missing key (or the untouched placeholder) from a refused one', () => {
    const refused = {
      errors: [{ message: 'The credential is not valid.', extensions: { code: 'UNAUTHENTICATED' } }],
    };
    expect(schemaAccessFrom({ status: 401, body: refused }, {})).toEqual({ kind: 'no-key' });
    expect(schemaAccessFrom({ status: 401, body: refused }, JSON.parse(DEFAULT_HEADERS))).toEqual({
      kind: 'no-key',
    });
    expect(schemaAccessFrom({ status: 401, body: refused }, key)).toEqual({
      kind: 'key-refused',
      detail: 'The credential is not valid.',
    });
  });

  it('should name schema:read when the gateway refuses Query.__schema', () => {
    const body = {
      data: null,
      errors: [
        {
          message: 'Not authorized to read Query.__schema: requires schema:read.',
          extensions: { code: 'FORBIDDEN', field: 'Query.__schema' },
        },
      ],
    };
    const access = schemaAccessFrom({ status: 200, body }, key);
    expect(access.kind).toBe('schema-forbidden');
    expect(noticeFor(access)?.title).toBe(
      'Your key may not read the schema (needs schema:read) — queries still run.',
    );
  });

  it('should report anything else with its status and message', () => {
    const body = { errors: [{ message: 'Too many requests.', extensions: { code: 'RATE_LIMITED' } }] };
    expect(schemaAccessFrom({ status: 429, body }, key)).toEqual({
      kind: 'failed',
      detail: 'HTTP 429: Too many requests.',
    });
    expect(noticeFor({ kind: 'readable' })).toBeUndefined();
  });
});

describe('loadExamples: the Examples pane from docs/operations', () => {
  it('should offer every named operation of the committed examples, each one parsing on its own', () => {
    const { examples, problems } = loadExamples();
    expect(problems).toEqual([]);
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const file of examples) {
      expect(file.operations.length).toBeGreaterThan(0);
      for (const operation of file.operations) {
        expect(() => parse(operation.document), `${file.file}: ${operation.name}`).not.toThrow();
        if (operation.variables) expect(JSON.parse(operation.variables)).toBeTypeOf('object');
      }
    }
    const profile = examples.flatMap((f) => f.operations).find((o) => o.name === 'Profile');
    expect(profile?.kind).toBe('query');
    expect(JSON.parse(profile!.variables)).toHaveProperty('email');
  });

  it('should read the comment block, carry the fragments an operation spreads, and name what it leaves out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'examples-'));
    writeFileSync(
      join(dir, 'analyst.graphql'),
      [
        '# Customers by stage,',
        '# a page at a time.',
        '# Client: analyst',
        '# Scopes: crm:read email:read',
        '# Variables: { "first": 2 }',
        'query Stages($first: Int!) { customers(first: $first) { edges { node { ...Stage } } } }',
        '',
        'fragment Stage on Customer { lifecycleStage ...Ids }',
        'fragment Ids on Customer { id }',
        'fragment Unused on Customer { email }',
        '',
        '# Variables: [1, 2]',
        'query ListVariables { __typename }',
        '',
        '{ anonymous }',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'broken.graphql'), 'query Broken {');
    const { examples, problems } = loadExamples(dir);
    expect(examples).toHaveLength(1);
    const [stages] = examples[0]!.operations;
    expect(examples[0]!.operations).toHaveLength(1);
    expect(stages).toMatchObject({
      name: 'Stages',
      kind: 'query',
      description: 'Customers by stage, a page at a time.',
      client: 'analyst',
      scopes: ['crm:read', 'email:read'],
      variables: '{\n  "first": 2\n}',
    });
    expect(stages!.document).toContain('fragment Stage on Customer');
    expect(stages!.document).toContain('fragment Ids on Customer');
    expect(stages!.document).not.toContain('fragment Unused');
    expect(stages!.document).toMatch(/^# Customers by stage,\n# a page at a time\.\n/);
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/ListVariables is not a JSON object/);
    expect(problems.join('\n')).toMatch(/without a name/);
    expect(problems.join('\n')).toMatch(/broken\.graphql: does not parse/);
  });

  it("should fill the examples' relative days with dates counted from the day the page is served", () => {
    const { examples } = loadExamples();
    const on = (day: string) =>
      Object.fromEntries(
        examplesOn(examples, day)
          .flatMap((file) => file.operations)
          .map((o) => [o.name, o.variables ? (JSON.parse(o.variables) as Record<string, unknown>) : {}]),
      );
    expect(on('2026-11-28')['Dashboard']).toEqual({ since: '2026-10-30', until: '2026-11-28' });
    expect(on('2026-11-28')['EmailCampaigns']).toEqual({ since: '2026-09-01', until: '2026-11-28' });
    expect(on('2027-03-01')['Dashboard']).toEqual({ since: '2027-01-31', until: '2027-03-01' });
    expect(on('2027-03-01')['Customers']).toEqual({ first: 5 });
  });

  it('should leave out an example whose relative day has a typo, and say which', () => {
    const dir = mkdtempSync(join(tmpdir(), 'examples-'));
    writeFileSync(
      join(dir, 'dates.graphql'),
      '# Variables: { "since": "$tday-3" }\nquery Typo($since: Date!) { campaignPerformance(since: $since, until: $since) { key } }\n',
    );
    const { examples, problems } = loadExamples(dir);
    expect(examples).toEqual([]);
    expect(problems).toEqual([
      expect.stringMatching(/Typo has a bad day .*"\$tday-3" is not a relative day/),
    ]);
  });

  it('should run without examples when the folder is missing', () => {
    const { examples, problems } = loadExamples(join(tmpdir(), 'no-such-operations-folder'));
    expect(examples).toEqual([]);
    expect(problems[0]).toMatch(/no such folder/);
  });
});

describe('renderPage: the page configuration travels as inert JSON', () => {
  it('should keep text from the examples from closing its script element', () => {
    const config: PageConfig = {
      endpoint: '/graphql',
      introspectionForAll: false,
      defaultHeaders: DEFAULT_HEADERS,
      examples: [
        {
          file: 'x',
          operations: [
            {
              name: 'X',
              kind: 'query',
              description: '</script><script>alert(1)</script> & <!--',
              scopes: [],
              document: '{ __typename }',
              variables: '',
            },
          ],
        },
      ],
    };
    const html = renderPage({ script: 'explorer-A.js', stylesheet: 'explorer-B.css' }, config);
    expect(html).not.toContain('<script>alert');
    const block = new RegExp(
      `<script type="application/json" id="${PAGE_CONFIG_ELEMENT_ID}">(.*?)</script>`,
    ).exec(html);
    expect(pageConfigSchema.parse(JSON.parse(block![1]!))).toEqual(config);
    expect(html).toContain('<script type="module" src="/explorer/assets/explorer-A.js">');
  });
});
