// "Cannot find module 'left-pad'": an app imports a package that is not installed. Said as one
// line naming the package and where it is imported, plus how to install it.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface MissingPackage {
  message: string;
  hint: string;
  /** The module that imports it, and the line of that import when found. */
  file: string | undefined;
  line: number | undefined;
  column: number | undefined;
}

/** `left-pad/sub` → `left-pad`, `@scope/pkg/x` → `@scope/pkg`; relative, absolute and `node:` specifiers are not packages. */
export function packageName(specifier: string): string | undefined {
  if (/^(\.|\/|[A-Za-z]:[\\/]|file:|node:|data:)/.test(specifier)) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return name === undefined || name === '' ? undefined : name;
}

/** The install command for the package manager the project uses (its lockfile), npm by default. */
export function installCommand(name: string, cwd: string = process.cwd()): string {
  if (existsSync(`${cwd}/pnpm-lock.yaml`)) return `pnpm add ${name}`;
  if (existsSync(`${cwd}/yarn.lock`)) return `yarn add ${name}`;
  if (existsSync(`${cwd}/bun.lockb`) || existsSync(`${cwd}/bun.lock`)) return `bun add ${name}`;
  return `npm install ${name}`;
}

function toPath(file: string): string {
  return file.startsWith('file://') ? fileURLToPath(file) : file;
}

/** The first line of `file` that names `specifier` in quotes (the import), 1-based. */
function importLine(file: string, specifier: string): { line: number; column: number } | undefined {
  let lines: string[];
  try {
    lines = readFileSync(file, 'utf8').split(/\r?\n/);
  } catch {
    return undefined;
  }
  for (let i = 0; i < lines.length; i++) {
    const at = (lines[i] ?? '').search(new RegExp(`(['"\`])${specifier.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\1`));
    if (at >= 0) return { line: i + 1, column: at + 1 };
  }
  return undefined;
}

/**
 * ESM: "Cannot find package 'x' imported from /app.ts" (ERR_MODULE_NOT_FOUND); CommonJS (tsx
 * compiles .ts without "type": "module" that way): "Cannot find module 'x'\nRequire stack:\n- /app.ts".
 */
export function missingPackage(error: unknown): MissingPackage | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return undefined;
  const m = /^Cannot find (?:package|module) '([^']+)'(?: imported from (\S+))?/.exec(error.message);
  const specifier = m?.[1];
  if (specifier === undefined) return undefined;
  const name = packageName(specifier);
  if (name === undefined) return undefined;
  const importer = m?.[2] ?? /^Require stack:\n- (.+)$/m.exec(error.message)?.[1];
  const file = importer === undefined || importer.includes('/node_modules/') ? undefined : toPath(importer);
  const where = file === undefined ? undefined : importLine(file, specifier);
  return {
    message: `the package "${name}" is not installed`,
    hint: `install it: ${installCommand(name)}`,
    file,
    line: where?.line,
    column: where?.column,
  };
}
