import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { Document, isMap, isScalar, parseDocument } from 'yaml';

/** Reads and writes the client registry as JSON or YAML, chosen by the file's extension. */

export type RegistryFormat = 'json' | 'yaml';

export function registryFormat(path: string): RegistryFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  return undefined;
}

/** The file's content as plain data, or why it cannot be read as its format. */
export function readRegistryData(
  path: string,
  format: RegistryFormat,
): { ok: true; data: unknown } | { ok: false; problem: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    return { ok: false, problem: `cannot read the file (${code})` };
  }
  return parseRegistryText(text, format);
}

/** Text already read (the gateway's reload compares it with the last one it read) as plain data. */
export function parseRegistryText(
  text: string,
  format: RegistryFormat,
): { ok: true; data: unknown } | { ok: false; problem: string } {
  if (format === 'json') {
    try {
      return { ok: true, data: JSON.parse(text) as unknown };
    } catch (error) {
      return {
        ok: false,
        problem: `not valid JSON (${error instanceof Error ? error.message : 'parse error'})`,
      };
    }
  }
  const doc = parseDocument(text);
  const [first] = doc.errors;
  if (first)
    return { ok: false, problem: `not valid YAML (${first.message.split('\n')[0] ?? 'parse error'})` };
  return { ok: true, data: doc.toJS() as unknown };
}

const PRINT_WIDTH = 110;

/**
 * JSON laid out the way the repository's formatter lays it out (objects one field per line, short
 * lists of plain values on one line), so a registry the CLI writes passes `prettier --check`.
 */
function formatJson(value: unknown, indent = '', prefixWidth = 0): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((v) => v === null || typeof v !== 'object')) {
      const inline = `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
      // The trailing comma after the list counts towards the line's width.
      if (prefixWidth + inline.length + 1 <= PRINT_WIDTH) return inline;
    }
    const inner = `${indent}  `;
    return `[\n${value.map((v) => `${inner}${formatJson(v, inner, inner.length)}`).join(',\n')}\n${indent}]`;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const inner = `${indent}  `;
    const lines = entries.map(([k, v]) => {
      const head = `${inner}${JSON.stringify(k)}: `;
      return `${head}${formatJson(v, inner, head.length)}`;
    });
    return `{\n${lines.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

function yamlText(data: unknown, path: string): string {
  const doc = new Document(data);
  // Keep the operator's header comment (what this file is, who owns it) across CLI edits.
  try {
    const previous = parseDocument(readFileSync(path, 'utf8'));
    // With no blank line after it, the header comment belongs to the first key, not the document.
    const firstKey = isMap(previous.contents) ? previous.contents.items[0]?.key : undefined;
    const header = previous.commentBefore ?? (isScalar(firstKey) ? firstKey.commentBefore : undefined);
    if (header) doc.commentBefore = header;
  } catch {
    // A new file has no header to keep.
  }
  return doc.toString({ lineWidth: 0 });
}

/**
 * Writes the whole file at once (a temporary file renamed over the old one), so a gateway reading
 * it at the same moment sees the old registry or the new one, never half of one.
 */
export function writeRegistryData(path: string, format: RegistryFormat, data: unknown): void {
  const text = format === 'json' ? `${formatJson(data)}\n` : yamlText(data, path);
  let mode = 0o600;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    // A new file: readable by its owner only.
  }
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  writeFileSync(temporary, text, { mode });
  renameSync(temporary, path);
}
