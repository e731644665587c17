// The exposure policy's names and the deny rules it hands to exporters: plain data, no I/O.
import { relative, sep } from 'node:path';

/** Names read by an app's module resolution and loaders (Node, npm, tsx): never served beside an app, never uploaded while one runs. */
export const APP_CONFIG_NAMES: readonly string[] = ['package.json', 'tsconfig.json', 'jsconfig.json', '.npmrc'];
/** Extensions (lower case) of files an app can import: uploads never create them in a folder holding app modules, or below it, while it runs. */
export const MODULE_EXTENSIONS: readonly string[] = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '.jsx', '.tsx', '.json', '.node'];
/** Pages an upload would replace for every visitor: never created by an upload, in any folder. */
export const PAGE_NAMES: readonly string[] = ['index.html', 'index.htm', '404.html'];
/** Env files (`.env`, `.env.local`, …) an app reads its secrets from: while an app runs, never served or written, whatever --dotfiles says. */
export const ENV_NAME = /^\.env(\..*)?$/i;
/** An upload still arriving (share/upload-names.ts tempNameFor): never read, whatever --dotfiles says. */
export const UPLOAD_TEMP_NAME = /^\..*\.upload-[0-9a-f]{12}$/;
/** Names denied at any depth, always, whatever --dotfiles says (lower case). */
export const HIDDEN_NAMES: readonly string[] = ['.git'];
/** Names denied at any depth while an app runs (a trailing `*` matches any rest of the name): ENV_NAME. */
export const APP_HIDDEN_NAMES: readonly string[] = ['.env', '.env.*'];

/**
 * What an exporter must deny for one configuration, so a deployment serves no more than
 * `serve-here` itself does. Paths are relative to the served folder (its real path), use "/"
 * and have no leading slash; protected things outside the served folder are left out (the
 * deployment does not serve them anyway). An exporter that cannot express a rule must refuse
 * to export, with a one-line reason, rather than drop it.
 */
export interface DenyRules {
  /** Any path segment starting with "." is denied (false with --dotfiles). */
  dotfiles: boolean;
  /**
   * Segment names denied at any depth whatever `dotfiles` says, case-insensitive; a trailing `*`
   * matches any rest of the name: HIDDEN_NAMES, and APP_HIDDEN_NAMES when an app runs.
   */
  names: readonly string[];
  /**
   * Exact files never served: the app entries and the module-graph files known when the rules
   * were made, the env file, the TLS certificate and key, and APP_CONFIG_NAMES in each folder from
   * an app's folder up to the root (whether they exist now or not). Compare case-insensitively.
   */
  files: readonly string[];
  /** Folders never served, with everything below them (the generated TLS key's folder). "" would be the whole root. */
  folders: readonly string[];
  /**
   * Folders holding app modules ("" for the root itself). An exporter does not see modules an
   * app loads later, so it denies files with `sourceExtensions` in these folders and below
   * (fail closed), or refuses to export.
   */
  appFolders: readonly string[];
  /** MODULE_EXTENSIONS: the extensions denied in `appFolders`. */
  sourceExtensions: readonly string[];
  /** Symbolic links must not lead out of the served folder (always true: say so in the config). */
  noLinksOut: true;
}

/** Absolute real paths → DenyRules relative to the root (those outside it dropped, duplicates once). */
export function toDenyRules(input: { root: string; dotfiles: boolean; appsRun: boolean; files: readonly string[]; folders: readonly string[]; appFolders: readonly string[] }): DenyRules {
  const inside = (paths: readonly string[]): string[] => {
    const out = new Set<string>();
    for (const p of paths) {
      const rel = relative(input.root, p);
      if (rel === '..' || rel.startsWith(`..${sep}`) || rel.startsWith(sep) || /^[a-z]:/i.test(rel)) continue;
      out.add(rel.split(sep).join('/'));
    }
    return [...out].sort();
  };
  return {
    dotfiles: !input.dotfiles,
    names: input.appsRun ? [...HIDDEN_NAMES, ...APP_HIDDEN_NAMES] : HIDDEN_NAMES,
    files: inside(input.files),
    // A served folder inside a secret one (someone serving ~/.config/serve-here) is all denied.
    folders: input.folders.some((f) => !relative(f, input.root).startsWith('..')) ? [''] : inside(input.folders),
    appFolders: inside(input.appFolders),
    sourceExtensions: MODULE_EXTENSIONS,
    noLinksOut: true,
  };
}
