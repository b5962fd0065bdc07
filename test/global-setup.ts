/** Says up front which suites a missing service turns off, so a skip is never silent. */
export default function setup(): void {
  if (!process.env['REDIS_URL']) {
    process.stdout.write(
      '\nREDIS_URL is not set: the Redis suites are reported as skipped. `.ci/run` sets REDIS_URL=redis://127.0.0.1:6379.\n\n',
    );
  }
}
