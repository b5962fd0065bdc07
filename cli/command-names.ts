/** Every command `main` runs, in the order the usage lists them. */
export const COMMANDS = [
  'start',
  'gateway',
  'worker',
  'subgraph',
  'sandbox',
  'compose',
  'clients',
  'keys',
  'endpoints',
  'sync',
  'review',
] as const;
export type CommandName = (typeof COMMANDS)[number];

export function isCommandName(value: string | undefined): value is CommandName {
  return (COMMANDS as readonly (string | undefined)[]).includes(value);
}
