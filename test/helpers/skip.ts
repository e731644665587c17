// A test that cannot run because a tool is missing says so on one line; under CI=true (which
// installs every tool the tests need) the same situation is a failure, not a skip.
export function skipOrFail(reason: string): void {
  if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: a missing tool is a failure; .ci/run installs it)`);
  console.log(`SKIP: ${reason}`);
}
