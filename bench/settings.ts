import { z } from 'zod';

/**
 * A benchmark's settings from its environment variables, checked by `shape`: a bad value stops the
 * script before anything starts (exit 2, the variable and the problem named, as `bench:<name>:
 * bad settings: …`), so a typo never runs minutes of load with a default in its place.
 */
export function benchSettings<Shape extends z.ZodRawShape>(
  name: string,
  shape: Shape,
  source: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodObject<Shape>> {
  const settings = z.object(shape).safeParse(source);
  if (!settings.success) {
    console.error(`bench:${name}: bad settings: ${z.prettifyError(settings.error)}`);
    process.exit(2);
  }
  return settings.data;
}
