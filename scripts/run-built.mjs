// `npm start`: runs the CLI from one prebuilt JavaScript file instead of transpiling ~500 TypeScript
// modules through tsx's loader on every start (tsx's off-thread hooks and the module loading were
// about 40% of the CPU `npm start` spent before /health answered; issue 17, bench/README.md).
//
// The bundle (.server/<build>/main.mjs, our code only: packages stay in node_modules; each dynamic
// import its own chunk, so what a command does not use, and the packages only it imports, are
// still not loaded) is rebuilt with esbuild when any file it was built from changed since, so an edit is picked up by the next start,
// as with tsx. `import.meta.url` keeps meaning each source file's own location, so paths relative
// to a module (schema files, static assets, package.json) resolve as they do under tsx.
// Without esbuild (a production install without development dependencies, where tsx brings its
// own), or when the build fails, it runs the TypeScript through tsx as before.
//
// Plain JavaScript on purpose: it must run before anything is transpiled.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'cli', 'main.ts');
const outDir = join(root, '.server');
const stampFile = join(outDir, 'build.json');
/** Besides the bundle's own inputs: what changes how it is built. */
const buildInputs = [
  fileURLToPath(import.meta.url),
  join(root, 'package-lock.json'),
  join(root, 'tsconfig.json'),
];

/** `size:mtime` of a file, or `missing`. */
function signature(file) {
  try {
    const stat = statSync(file);
    return `${stat.size}:${stat.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/** The built entry point when it was built from the files as they are now. */
function currentBuild() {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
  } catch {
    return undefined;
  }
  if (!stamp || typeof stamp.dir !== 'string' || typeof stamp.inputs !== 'object') return undefined;
  const main = join(outDir, stamp.dir, 'main.mjs');
  if (signature(main) === 'missing') return undefined;
  return Object.entries(stamp.inputs).every(([file, seen]) => signature(file) === seen) ? main : undefined;
}

async function build() {
  const esbuild = await import('esbuild');
  mkdirSync(outDir, { recursive: true });
  // A directory per build: a start already running keeps loading its chunks from its own.
  const dir = `build-${Date.now()}-${process.pid}`;
  // esbuild builds in a service process of its own, which otherwise stays for the life of the
  // process that started it: the gateway would keep a child holding ~85 MB (issue 17, bench/README.md).
  const result = await esbuild
    .build({
      absWorkingDir: root,
      entryPoints: { main: entry },
      bundle: true,
      splitting: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outdir: join(outDir, dir),
      outExtension: { '.js': '.mjs' },
      sourcemap: 'linked',
      metafile: true,
      logLevel: 'error',
      plugins: [
        {
          name: 'module-relative-paths',
          setup(on) {
            on.onLoad({ filter: /\.ts$/ }, async (args) => ({
              contents: (await readFile(args.path, 'utf8')).replaceAll(
                'import.meta.url',
                JSON.stringify(pathToFileURL(args.path).href),
              ),
              loader: 'ts',
            }));
          },
        },
      ],
    })
    .finally(() => esbuild.stop());
  const inputs = Object.fromEntries(
    [...Object.keys(result.metafile.inputs).map((file) => resolve(root, file)), ...buildInputs].map(
      (file) => [file, signature(file)],
    ),
  );
  // Written whole, then renamed into place: a start at the same moment reads the old or the new.
  const temporary = `${stampFile}.${process.pid}`;
  writeFileSync(temporary, `${JSON.stringify({ dir, inputs }, null, 1)}\n`);
  renameSync(temporary, stampFile);
  // Builds older than an hour are no start's any more.
  for (const old of readdirSync(outDir)) {
    if (!old.startsWith('build-') || old === dir) continue;
    const path = join(outDir, old);
    if (Date.now() - statSync(path).mtimeMs > 3_600_000) rmSync(path, { recursive: true, force: true });
  }
  return join(outDir, dir, 'main.mjs');
}

let main = currentBuild();
if (!main) {
  try {
    main = await build();
  } catch (error) {
    process.stderr.write(
      `Running through tsx: the prebuilt CLI could not be built (${error instanceof Error ? error.message.split('\n')[0] : String(error)}).\n`,
    );
  }
}
// A stack trace names the TypeScript file and line, as under tsx, except with NODE_ENV=production:
// with source maps on, Node reads and keeps the map of every module that ships one, node_modules
// included (Apollo's packages do), ~18 MB of heap and ~30 MB of resident memory in a gateway (issue
// 17, bench/README.md). A production process that wants them sets NODE_OPTIONS=--enable-source-maps.
if (process.env.NODE_ENV !== 'production') process.setSourceMapsEnabled(true);
if (main) {
  await import(pathToFileURL(main).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(entry).href);
}
