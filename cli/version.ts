import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** The `version` of package.json, which `--version` prints. */
export function packageVersion(): string {
  const manifest = z
    .object({ version: z.string() })
    .parse(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')));
  return manifest.version;
}
