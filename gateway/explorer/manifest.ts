import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** This folder: the explorer's server modules, with the browser code in `browser/`. */
export const EXPLORER_DIR = fileURLToPath(new URL('.', import.meta.url));
/** Built bundles, one folder per source hash (gitignored); a test may build elsewhere. */
export const DIST_DIR = join(EXPLORER_DIR, 'dist');
const BROWSER_DIR = join(EXPLORER_DIR, 'browser');
const LOCKFILE = join(EXPLORER_DIR, '..', '..', 'package-lock.json');

/** What a build wrote: the content-hashed file names of the bundle, relative to its folder. */
export const manifestSchema = z.object({
  sourceHash: z.string(),
  script: z.string().regex(/^[\w.-]+\.js$/),
  stylesheet: z.string().regex(/^[\w.-]+\.css$/),
});
export type ExplorerManifest = z.infer<typeof manifestSchema>;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/**
 * A hash of everything the bundle is made from: the browser sources, the page configuration they
 * share with the server, and the lockfile (the versions of GraphiQL, React and esbuild). A change
 * to any of them means the bundle on disk is stale and is built again.
 */
export function explorerSourceHash(): string {
  const hash = createHash('sha256');
  for (const file of [...filesUnder(BROWSER_DIR), join(EXPLORER_DIR, 'page-config.ts'), LOCKFILE]) {
    hash.update(file.slice(EXPLORER_DIR.length));
    hash.update('\0');
    try {
      hash.update(readFileSync(file));
    } catch {
      hash.update('missing');
    }
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** The folder a build of `sourceHash` lives in. */
export function buildDir(sourceHash: string, distDir: string = DIST_DIR): string {
  return join(distDir, sourceHash);
}

/** The manifest of the build of `sourceHash`, or undefined when there is none (or it is damaged). */
export function readManifest(sourceHash: string, distDir: string = DIST_DIR): ExplorerManifest | undefined {
  try {
    const parsed = manifestSchema.safeParse(
      JSON.parse(readFileSync(join(buildDir(sourceHash, distDir), 'manifest.json'), 'utf8')),
    );
    return parsed.success && parsed.data.sourceHash === sourceHash ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
