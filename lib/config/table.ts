import type { EnvVar } from './env.js';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The README's configuration table, one row per variable, straight from the catalog. */
export function renderConfigTable(catalog: Record<string, EnvVar<unknown>>): string {
  const rows = Object.entries(catalog).map(([name, v]) => {
    const fallback = v.default !== undefined ? `\`${v.default}\`` : v.required ? 'required' : 'unset';
    const secret = v.secret ? ` Secret: also \`${name}_FILE\`.` : '';
    return `| \`${name}\` | ${cell(v.description)}${secret} | ${cell(v.expected)} | ${fallback} |`;
  });
  return ['| Variable | Meaning | Accepts | Default |', '|---|---|---|---|', ...rows].join('\n');
}
