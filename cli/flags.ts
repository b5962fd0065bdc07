import { parseArgs } from 'node:util';
import { UsageError } from './usage.js';

/**
 * The `--name value` flags of the CLI's sub-commands (`clients`, `endpoints`): parsed strictly, so
 * an unknown or misspelt flag is a UsageError (exit 2) rather than ignored.
 */
export type Flags = Record<string, string | boolean | undefined>;

export function flagsOf(args: readonly string[], allowed: Record<string, 'string' | 'boolean'>): Flags {
  try {
    const { values } = parseArgs({
      args: [...args],
      options: Object.fromEntries(Object.entries(allowed).map(([name, type]) => [name, { type }])),
      strict: true,
      allowPositionals: false,
    });
    return values as Flags;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** A string flag, trimmed; undefined when absent, a UsageError when given empty. */
export function text(flags: Flags, name: string): string | undefined {
  const value = flags[name];
  if (typeof value !== 'string') return undefined;
  if (value.trim() === '') throw new UsageError(`--${name} must not be empty`);
  return value.trim();
}

/** A string flag that must be given. */
export function required(flags: Flags, name: string): string {
  const value = text(flags, name);
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}
