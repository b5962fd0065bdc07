import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

/**
 * Three TypeScript projects: `tsconfig.json` (everything but the explorer's browser app),
 * `tsconfig.server.json` (the code the server processes run, which must not see the DOM) and
 * `gateway/explorer/browser/tsconfig.json` (the browser app, the only code with DOM types). These
 * tests prove the split holds: a server module that uses `document` does not compile, the browser
 * app does, every file belongs to a project, and `npm test` checks all three.
 */

const ROOT = process.cwd();
const PROJECTS = {
  all: 'tsconfig.json',
  server: 'tsconfig.server.json',
  browser: 'gateway/explorer/browser/tsconfig.json',
} as const;

/** Source files that are tools, not server code: checked by the root project only. */
const TOOLS = [/^test\//, /^bench\//, /^scripts\//, /^[^/]+\.ts$/];
const BROWSER_DIR = 'gateway/explorer/browser/';

function parsed(project: string): ts.ParsedCommandLine {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, project), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  });
  if (!config) throw new Error(`${project} could not be read`);
  expect(config.errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, '\n'))).toEqual([]);
  return config;
}

const relativeNames = (config: ts.ParsedCommandLine) =>
  config.fileNames.map((file) => relative(ROOT, file)).sort();

/** The libraries a program ends up with, by file name (`lib.dom.d.ts`), however they came in. */
const libFiles = (program: ts.Program) =>
  program
    .getSourceFiles()
    .filter((file) => program.isSourceFileDefaultLibrary(file))
    .map((file) => file.fileName.slice(file.fileName.lastIndexOf('/') + 1));

/** Who pulled the DOM in: the files with a `/// <reference lib="dom" />`, for the failure message. */
const domReferrers = (program: ts.Program) =>
  program
    .getSourceFiles()
    .filter((file) => file.libReferenceDirectives.some((d) => d.fileName.toLowerCase().startsWith('dom')))
    .map((file) => relative(ROOT, file.fileName));

/**
 * The project's program with one more file, `probe.ts` in `dir`, holding `source`; returns the
 * probe's own diagnostic codes and the program. The probe is served from memory.
 */
function compileProbe(config: ts.ParsedCommandLine, dir: string, source: string) {
  const probe = resolve(ROOT, dir, 'probe.ts');
  const host = ts.createCompilerHost(config.options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) =>
    resolve(fileName) === probe
      ? ts.createSourceFile(fileName, source, languageVersion)
      : getSourceFile(fileName, languageVersion, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => resolve(fileName) === probe || fileExists(fileName);
  const program = ts.createProgram({
    rootNames: [...config.fileNames, probe],
    options: config.options,
    host,
  });
  const probeFile = program.getSourceFile(probe);
  if (!probeFile) throw new Error('the probe is not in the program');
  const codes = [
    ...program.getSyntacticDiagnostics(probeFile),
    ...program.getSemanticDiagnostics(probeFile),
  ].map((d) => d.code);
  return { codes, program };
}

/** Reads `document` and `window`: fine in a browser, an error anywhere else. */
const USES_THE_DOM = 'export const where: string = document.title + window.location.href;\n';
const CANNOT_FIND_NAME = [2304, 2584];

describe('TypeScript projects', () => {
  it('should give the root project no DOM library', () => {
    const libs = (parsed(PROJECTS.all).options.lib ?? []).map((lib) => lib.toLowerCase());
    expect(libs.length).toBeGreaterThan(0);
    expect(libs.filter((lib) => lib.includes('dom'))).toEqual([]);
  });

  it('should refuse a server module that uses the DOM, whatever the server code imports', () => {
    const { codes, program } = compileProbe(parsed(PROJECTS.server), 'gateway', USES_THE_DOM);
    expect(libFiles(program), `the DOM came in through: ${domReferrers(program).join(', ')}`).not.toContain(
      'lib.dom.d.ts',
    );
    expect(codes.filter((code) => CANNOT_FIND_NAME.includes(code))).toHaveLength(2);
  });

  it('should compile the same module in the browser app', () => {
    const { codes } = compileProbe(parsed(PROJECTS.browser), BROWSER_DIR, USES_THE_DOM);
    expect(codes).toEqual([]);
  });

  it('should put every source file in a project: the browser app in its own, all server code in the server one', () => {
    const all = relativeNames(parsed(PROJECTS.all));
    const server = relativeNames(parsed(PROJECTS.server));
    const browser = relativeNames(parsed(PROJECTS.browser));

    expect(browser.length).toBeGreaterThan(0);
    expect(browser.filter((file) => !file.startsWith(BROWSER_DIR))).toEqual([]);
    // The root project leaves the browser folder to its own project (tests may import its pure modules).
    expect(all.filter((file) => file.startsWith(BROWSER_DIR))).toEqual([]);
    expect(server.filter((file) => file.startsWith(BROWSER_DIR))).toEqual([]);
    // The server project is the root one without the tools: a new top-level folder is server code.
    expect(server.filter((file) => !all.includes(file))).toEqual([]);
    expect(all.filter((file) => !server.includes(file) && !TOOLS.some((tool) => tool.test(file)))).toEqual(
      [],
    );
    expect(server).toContain('gateway/server.ts');
  });

  it('should type-check all three projects in npm test, as the README says', () => {
    const { scripts } = z
      .object({ scripts: z.object({ test: z.string(), typecheck: z.string() }) })
      .parse(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')));
    const checked = [...scripts.typecheck.matchAll(/\btsc\b[^&]*?-p\s+(\S+)/g)].map((match) => match[1]);
    expect(checked).toEqual(['.', PROJECTS.server, PROJECTS.browser.replace(/\/tsconfig\.json$/, '')]);
    expect(scripts.test).toMatch(/^npm run typecheck && vitest run$/);
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('`npm run typecheck`');
  });
});
