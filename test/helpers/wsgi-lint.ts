// What CPython's wsgiref.validate asserts about the environ a WSGI server provides, restated in
// the README's JavaScript mapping (arrays for tuples, Uint8Array for bytes, async iteration):
// each check returns the problems it finds, so an app can report them instead of failing.

const REQUIRED = ['REQUEST_METHOD', 'SERVER_NAME', 'SERVER_PORT', 'wsgi.version', 'wsgi.input', 'wsgi.errors', 'wsgi.multithread', 'wsgi.multiprocess', 'wsgi.run_once'];
const METHODS = ['GET', 'HEAD', 'POST', 'OPTIONS', 'PATCH', 'PUT', 'DELETE', 'TRACE'];

const has = (value: unknown, name: string | symbol): boolean => typeof (value as Record<string | symbol, unknown> | null)?.[name] === 'function';

/** wsgi.input's methods (validate: read, readline, readlines, __iter__ → Symbol.asyncIterator). */
export function inputProblems(input: unknown): string[] {
  return (['read', 'readline', 'readlines', Symbol.asyncIterator] as const).filter((m) => !has(input, m)).map((m) => `wsgi.input has no ${String(m)}`);
}

/** wsgi.errors's methods (validate: flush, write, writelines). */
export function errorsProblems(errors: unknown): string[] {
  return ['flush', 'write', 'writelines'].filter((m) => !has(errors, m)).map((m) => `wsgi.errors has no ${m}()`);
}

/** check_environ: required keys, string CGI values, the wsgi.* types, SCRIPT_NAME and PATH_INFO. */
export function environProblems(environ: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const fail = (cond: boolean, message: string): void => {
    if (!cond) problems.push(message);
  };
  fail(Object.getPrototypeOf(environ) === Object.prototype, 'environ is a plain object');
  for (const key of REQUIRED) fail(key in environ, `environ has ${key}`);
  for (const key of ['HTTP_CONTENT_TYPE', 'HTTP_CONTENT_LENGTH']) fail(!(key in environ), `environ has no ${key} (${key.slice(5)} instead)`);
  fail('QUERY_STRING' in environ, 'environ has QUERY_STRING');
  for (const [key, value] of Object.entries(environ)) if (!key.includes('.')) fail(typeof value === 'string', `${key} is a string (got ${typeof value})`);
  const version = environ['wsgi.version'];
  fail(Array.isArray(version) && version.length === 2 && version[0] === 1 && version[1] === 0, 'wsgi.version is the array [1, 0]');
  fail(environ['wsgi.url_scheme'] === 'http' || environ['wsgi.url_scheme'] === 'https', 'wsgi.url_scheme is http or https');
  for (const key of ['wsgi.multithread', 'wsgi.multiprocess', 'wsgi.run_once']) fail(typeof environ[key] === 'boolean', `${key} is a boolean`);
  problems.push(...inputProblems(environ['wsgi.input']), ...errorsProblems(environ['wsgi.errors']));
  fail(METHODS.includes(String(environ.REQUEST_METHOD)), `REQUEST_METHOD is known (${String(environ.REQUEST_METHOD)})`);
  const script = String(environ.SCRIPT_NAME ?? '');
  const path = String(environ.PATH_INFO ?? '');
  fail(script === '' || script.startsWith('/'), `SCRIPT_NAME starts with / (${script})`);
  fail(path === '' || path.startsWith('/'), `PATH_INFO starts with / (${path})`);
  if (environ.CONTENT_LENGTH !== undefined && environ.CONTENT_LENGTH !== '') fail(/^\d+$/.test(String(environ.CONTENT_LENGTH)), `CONTENT_LENGTH is a non-negative integer (${String(environ.CONTENT_LENGTH)})`);
  if (script === '') fail('PATH_INFO' in environ, 'PATH_INFO is set when SCRIPT_NAME is empty');
  fail(script !== '/', "SCRIPT_NAME is not '/'");
  return problems;
}

/** What one wsgi.input call returned, for a JSON report: bytes (as latin-1 text) or what it was instead. */
export function describe(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1') };
  if (Array.isArray(value)) return value.map(describe);
  return { not: value === null ? 'null' : typeof value };
}
