import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import {
  buildDir,
  DIST_DIR,
  EXPLORER_DIR,
  explorerSourceHash,
  readManifest,
  type ExplorerManifest,
} from './manifest.js';

/**
 * Bundles the explorer (GraphiQL, React, our browser code and their CSS) into two content-hashed
 * files under `dist/<source hash>/`, so the gateway serves everything itself and no request
 * leaves the machine. GraphiQL 4 is used, not 5: 4 edits with CodeMirror 5, which bundles to one
 * script and one stylesheet; 5 moved to Monaco, whose language services run in web workers that
 * need their own bundles and a `worker-src` in the Content-Security-Policy.
 *
 * Safe to run from several processes at once (test workers): each builds into its own temporary
 * folder and renames it into place; the first rename wins and the others are discarded.
 */
export async function buildExplorer(distDir: string = DIST_DIR): Promise<ExplorerManifest> {
  const sourceHash = explorerSourceHash();
  const existing = readManifest(sourceHash, distDir);
  if (existing) return existing;
  mkdirSync(distDir, { recursive: true });
  const staging = join(distDir, `.staging-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    const result = await build({
      entryPoints: [join(EXPLORER_DIR, 'browser', 'app.ts')],
      outdir: staging,
      entryNames: 'explorer-[hash]',
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['es2022'],
      minify: true,
      // Licence notices stay in the bundle they cover.
      legalComments: 'eof',
      metafile: true,
      logLevel: 'silent',
      // React's production build, and graphql-js without its development-only instanceof checks.
      define: { 'process.env.NODE_ENV': '"production"' },
      loader: { '.woff2': 'dataurl', '.png': 'dataurl', '.svg': 'dataurl' },
    });
    const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
    const script = outputs.find((name) => name.endsWith('.js'));
    const stylesheet = outputs.find((name) => name.endsWith('.css'));
    if (!script || !stylesheet)
      throw new Error(`the explorer build wrote ${outputs.join(', ')}: expected one .js and one .css`);
    const manifest: ExplorerManifest = { sourceHash, script, stylesheet };
    writeFileSync(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    try {
      renameSync(staging, buildDir(sourceHash, distDir));
    } catch (error) {
      // Another process finished the same build first: use its output.
      const theirs = readManifest(sourceHash, distDir);
      if (theirs) return theirs;
      throw error;
    }
    pruneOtherBuilds(distDir, sourceHash);
    return manifest;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Removes builds of older sources; best effort, as another process may be removing them too. */
function pruneOtherBuilds(distDir: string, keep: string): void {
  for (const name of readdirSync(distDir)) {
    if (name === keep || name.startsWith('.staging-')) continue;
    rmSync(join(distDir, name), { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = Date.now();
  const upToDate = readManifest(explorerSourceHash()) !== undefined;
  buildExplorer().then(
    (manifest) => {
      const where = join(buildDir(manifest.sourceHash), manifest.script);
      process.stdout.write(
        upToDate
          ? `explorer bundle up to date: ${where}\n`
          : `explorer built in ${Date.now() - started} ms: ${where}\n`,
      );
    },
    (error: unknown) => {
      process.stderr.write(`explorer build failed: ${(error as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
