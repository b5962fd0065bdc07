import type { EnvVar } from '../../lib/config/env.js';

/** A variable's default as the docs print it. */
export const defaultOf = (entry: EnvVar<unknown>): string => entry.default ?? 'unset';

export const seconds = (ms: number) => `${ms / 1000} s`;
