import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { PLATFORMS } from '../../platforms/registry.js';
import { ROLE_DECLARATIONS } from '../../subgraphs/registry.js';

/**
 * One folder per platform (issue 13): outside `platforms/`, only the role subgraphs name a platform.
 * Code is checked, not prose: comments may say "HubSpot signs the URI" where that explains why.
 */
const OWNERS = [
  /^platforms\//,
  new RegExp(`^subgraphs/(${ROLE_DECLARATIONS.map((role) => role.name).join('|')})/`),
];
/** Not product code: tests, benchmarks and generated files say which platform they exercise. */
const NOT_SOURCE = [/^test\//, /^bench\//, /^docs\//, /\/__generated__\//];

/**
 * Files that still name platforms, each with the reason; the list only shrinks. Everything else a
 * platform brings is in its folder and reached through its descriptor: demo credentials and webhook
 * secret (`demo.ts`), the demo webhook traffic and its signing (`sandbox/traffic.ts`, `sandbox/sign.ts`,
 * `webhooks.demoTraffic`), the world changes it makes (`sandbox/changes.ts`), its credential header
 * (`credential.header`, which the logger's rule covers).
 */
const ALLOWED: Record<string, string> = {
  'sandboxes/world/links.ts':
    "the demo company's tracked links carry real UTM values (`utm_source=mailchimp` is what the email platform's link tracking writes): data of the seeded world, not a dependency on a platform. The world is generated below the registry (every sandbox is built on it), so it cannot read them from the descriptors.",
};

/** A platform named as a word in an identifier or string: `hubspot`, `HubSpot`, `HUBSPOT_`, `meta`. */
function namePattern(names: readonly string[]): RegExp {
  return new RegExp(`(?<![a-z])(${names.join('|')})(?![a-z])`, 'i');
}

/** The file's code with comments dropped (string and template text kept), as the printer writes it. */
function codeOf(source: string): string {
  const file = ts.createSourceFile('probe.ts', source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  return (
    ts
      .createPrinter({ removeComments: true })
      .printFile(file)
      // `import.meta`, an HTML `<meta>` tag and a `…-meta` CSS class are not the platform.
      .replace(/import\.meta\b|<meta\b|[a-z]-meta\b/gi, '')
  );
}

export function offenders(
  files: readonly string[],
  read: (file: string) => string,
  names: readonly string[],
) {
  const pattern = namePattern(names);
  return files.filter(
    (file) =>
      /\.(ts|js|mjs)$/.test(file) &&
      !OWNERS.some((owner) => owner.test(file)) &&
      !NOT_SOURCE.some((skip) => skip.test(file)) &&
      !(file in ALLOWED) &&
      pattern.test(codeOf(read(file))),
  );
}

describe('platform names', () => {
  const names = PLATFORMS.map((platform) => platform.name);
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);

  it('should find no platform named outside platforms/ and the role subgraphs', () => {
    expect(offenders(files, (file) => readFileSync(file, 'utf8'), names)).toEqual([]);
  });

  it('should catch a platform named in code, and not in a comment', () => {
    const sources: Record<string, string> = {
      'gateway/named.ts': "export const source = 'shopify';",
      'gateway/commented.ts': '// Shopify signs the body\nexport const x = 1;',
      'gateway/import-meta.ts': 'export const url = import.meta.url;',
      'subgraphs/crm/own.ts': "export const p = 'hubspot';",
    };
    expect(offenders(Object.keys(sources), (file) => sources[file] ?? '', names)).toEqual([
      'gateway/named.ts',
    ]);
  });

  it('should keep the allow-list to files that exist and still need it', () => {
    const pattern = namePattern(names);
    const stale = Object.keys(ALLOWED).filter(
      (file) => !files.includes(file) || !pattern.test(codeOf(readFileSync(file, 'utf8'))),
    );
    expect(stale).toEqual([]);
  });
});
