import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * `schema/changes.yaml`: the breaking changes to the API schema accepted on purpose, each with the
 * reason. An entry names the change as graphql-inspector reports it, by `path` (a schema coordinate
 * such as `AdStats.ctr`), by `message`, or both; a change matches when every given field is equal.
 */
export const CHANGES_FILE = 'schema/changes.yaml';

const entrySchema = z
  .object({
    path: z.string().trim().min(1).optional(),
    message: z.string().trim().min(1).optional(),
    reason: z
      .string({ error: 'is required: say why the break is acceptable and who was told' })
      .trim()
      .min(10, 'must say why the break is acceptable and who was told (10 characters at least)'),
  })
  .strict()
  .refine((entry) => entry.path !== undefined || entry.message !== undefined, {
    message: "names no change: give the change's `path`, its `message`, or both",
  });

const fileSchema = z
  .object({ changes: z.array(entrySchema).nullable().default([]) })
  .strict()
  .transform((file) => file.changes ?? []);

export type AcceptedChange = z.output<typeof entrySchema>;

export class ChangesFileError extends Error {
  override readonly name = 'ChangesFileError';
  readonly code = 'BAD_CHANGES_FILE';
}

/** The accepted changes in `file`; none when the file does not exist. Throws ChangesFileError when it is malformed. */
export function readAcceptedChanges(file: string): AcceptedChange[] {
  if (!existsSync(file)) return [];
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8')) ?? {};
  } catch (error) {
    throw new ChangesFileError(`${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
      return `${where}: ${issue.message}`;
    });
    throw new ChangesFileError(
      `${file} is malformed: ${problems.join('; ')}. Expected \`changes:\` with a list of { path and/or message, reason }.`,
    );
  }
  return parsed.data;
}

/** Whether an accepted entry names this change. */
export function accepts(
  entry: AcceptedChange,
  change: { path?: string | undefined; message: string },
): boolean {
  return (
    (entry.path === undefined || entry.path === change.path) &&
    (entry.message === undefined || entry.message === change.message)
  );
}
