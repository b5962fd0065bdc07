/** A command line that names no known command or part; exits with code 2 like a bad configuration. */
export class UsageError extends Error {
  override name = 'UsageError';
}
