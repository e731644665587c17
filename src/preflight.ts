// Checks of the command line against the file system before anything starts: the folder, the
// app modules and the env file. Each mistake is one line plus a hint saying what to type.
import { readdirSync, statSync, type Stats } from 'node:fs';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { errorCode, ServeHereError, UsageError } from './errors.js';
import type { Options } from './options.js';

/** What an app module may be: serve-here imports it with Node (tsx for TypeScript and JSX). */
export const APP_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '.tsx', '.jsx'] as const;
const MODULE_NAMES = ['app', 'index', 'server', 'main'];

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** The folder to serve, made absolute; throws when it is not an existing folder. */
export function checkDir(dir: string): string {
  const abs = resolve(dir);
  let isDir: boolean;
  try {
    isDir = statSync(abs).isDirectory();
  } catch (error) {
    const missing = errorCode(error) === 'ENOENT';
    // `serve-here 8080`: python's http.server takes the port as its argument; we take the folder.
    if (missing && /^\d{1,5}$/.test(dir)) {
      throw new UsageError(`Cannot serve directory "${dir}": no such directory`, `Did you mean \`serve-here --port ${dir}\`?`);
    }
    throw new ServeHereError(`Cannot serve directory "${dir}": ${missing ? 'no such directory' : 'cannot read it'}`, {
      hint: 'Give an existing folder, e.g. `serve-here ./public`.',
    });
  }
  if (!isDir) throw new ServeHereError(`Cannot serve "${dir}": it is a file, not a folder`, { hint: 'Give the folder that contains it.' });
  return abs;
}

/** Every --app module must be an existing JavaScript or TypeScript file. */
export function checkApps(opts: Options): void {
  for (const { prefix, file } of opts.apps) {
    const stats = statOf(file);
    const arg = (f: string): string => `\`--app ${prefix === '' ? '' : `${prefix}=`}${f}\``;
    if (stats === undefined) {
      // `--app api=x.ts`: a mount prefix starts with "/", else the whole value is a file name.
      const eq = file.indexOf('=');
      if (prefix === '' && eq > 0 && /^[\w.-]+(\/[\w.-]+)*\/?$/.test(file.slice(0, eq))) {
        throw new UsageError(`Cannot mount app "${file}": no such file`, `A mount prefix starts with "/": did you mean \`--app /${file}\`?`);
      }
      if (!isAppModule(file)) throw notAModule(file);
      throw new ServeHereError(`Cannot mount app "${file}": no such file`, { hint: 'Give the module file, e.g. `serve-here --app app.ts` (relative to the current folder).' });
    }
    if (stats.isDirectory()) {
      const inside = moduleIn(file);
      throw new UsageError(
        `Cannot mount app "${file}": it is a folder`,
        inside === undefined ? `Give the module file inside it, e.g. ${arg(join(file, 'app.ts'))}.` : `Give the module file inside it: ${arg(join(file, inside))}.`,
      );
    }
    if (!isAppModule(file)) throw notAModule(file);
  }
}

function isAppModule(file: string): boolean {
  return (APP_EXTENSIONS as readonly string[]).includes(extname(file).toLowerCase());
}

function notAModule(file: string): UsageError {
  return new UsageError(`Cannot mount app "${file}": not a JavaScript or TypeScript module`, `serve-here runs JavaScript/TypeScript modules: ${APP_EXTENSIONS.join(' ')}.`);
}

/** The likeliest app module in a folder (app.ts, index.js, …), if there is one. */
function moduleIn(dir: string): string | undefined {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  for (const base of MODULE_NAMES) {
    for (const ext of APP_EXTENSIONS) if (names.includes(base + ext)) return base + ext;
  }
  return names.find((n) => isAppModule(n) && !n.endsWith('.d.ts'));
}

/** --env-file must be a readable file (checked here so the error comes before the banner). */
export function checkEnvFile(opts: Options): void {
  if (opts.envFile === undefined) return;
  const stats = statOf(opts.envFile);
  if (stats === undefined) {
    throw new ServeHereError(`Cannot read env file "${opts.envFile}": no such file`, { hint: 'Give its path relative to the current folder, e.g. `--env-file .env`.' });
  }
  if (stats.isDirectory()) throw new UsageError(`Cannot read env file "${opts.envFile}": it is a folder`, 'Give the file, e.g. `--env-file .env`.');
}

/** Banner warnings for app modules and the env file that sit inside the served folder. */
export function insideWarnings(opts: Options, root: string): string[] {
  const files = [...opts.apps.map((a) => a.file), ...(opts.envFile === undefined ? [] : [opts.envFile])];
  const warnings: string[] = [];
  for (const file of files) {
    const rel = relative(root, resolve(file));
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) continue;
    warnings.push(`${rel} is inside the served folder; serve-here never serves it`);
  }
  return warnings;
}
