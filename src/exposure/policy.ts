// The one exposure policy: what of the served folder may be read (served, listed, zipped,
// watched), what may be written (uploads), and the deny rules every exporter emits. No other
// module keeps a list of its own; they ask an Exposure (README: "What is never served").
import { realpathSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { defaultConfigDir } from '../share/config-dir.js';
import { APP_CONFIG_NAMES, ENV_NAME, MODULE_EXTENSIONS, PAGE_NAMES, toDenyRules, UPLOAD_TEMP_NAME, type DenyRules } from './rules.js';

export { APP_CONFIG_NAMES, APP_HIDDEN_NAMES, ENV_NAME, HIDDEN_NAMES, MODULE_EXTENSIONS, PAGE_NAMES, type DenyRules } from './rules.js';

/** What the policy is told about one run. Paths may be relative (to the current folder) and need not exist. */
export interface ExposureConfig {
  /** The served folder. */
  root: string;
  /** --dotfiles: dot names are served (`.git` never is, env files not while an app runs). */
  dotfiles: boolean;
  /** The apps' entry modules (--app files). Any entry means an app runs: the write rules for apps apply. */
  apps?: readonly string[] | undefined;
  /** Further files of the apps' module graphs known now; more arrive through `Exposure.addAppFiles`. */
  appFiles?: readonly string[] | undefined;
  /** --env-file. */
  envFile?: string | undefined;
  /** --cert and --key. */
  tlsFiles?: readonly string[] | undefined;
  /** Folders never served, listed or written, with all below them. The generated certificate's folder (share/config-dir.ts) always is one. */
  secretFolders?: readonly string[] | undefined;
  /** The folder the apps run in (its package.json, tsconfig.json, .npmrc are app config): the current folder by default. */
  appCwd?: string | undefined;
}

/** Every way a file leaves the server; the matrix test (test/exposure-matrix.test.ts) has a column for each. */
export const READERS = ['get', 'head', 'range', 'listing-html', 'listing-json', 'zip', 'live-reload'] as const;
/** Every way a file enters the folder; the matrix test has a column for each. */
export const WRITERS = ['put', 'listing-upload'] as const;
export type Reader = (typeof READERS)[number];
export type Writer = (typeof WRITERS)[number];

/**
 * The policy for one served folder. Paths given to it are absolute; "real" ones have been through
 * realpath. Protected paths compare ignoring case (a case-insensitive disk serves `KEY.PEM` as
 * `key.pem`; elsewhere this denies at most a look-alike name). The apps' module graph only grows
 * during a run: a file once imported stays protected, and its folder takes no new modules.
 */
export class Exposure {
  /** The served folder, real path. */
  readonly root: string;
  readonly dotfiles: boolean;
  /** An app runs (an entry or graph file is known): uploads must not feed its module resolution. */
  appsRun = false;
  readonly #prefix: string;
  readonly #cwd: string;
  readonly #lowerRoot: string;
  readonly #lowerPrefix: string;
  /** Protected files inside the root: lower-cased → as found. */
  readonly #files = new Map<string, string>();
  /** Secret folders: as found, and lower-cased with a trailing separator. */
  readonly #secretFolders: string[] = [];
  readonly #folders: string[] = [];
  /** Folders inside the root whose APP_CONFIG_NAMES are app config: lower-cased → as found. */
  readonly #configDirs = new Map<string, string>();
  /** Folders holding app modules: lower-cased → as found. */
  readonly #appFolders = new Map<string, string>();

  constructor(config: ExposureConfig) {
    this.root = realOrResolved(config.root);
    this.#prefix = this.root.endsWith(sep) ? this.root : this.root + sep;
    this.#lowerRoot = this.root.toLowerCase();
    this.#lowerPrefix = this.#prefix.toLowerCase();
    this.dotfiles = config.dotfiles;
    this.#cwd = config.appCwd ?? process.cwd();
    for (const f of [...(config.tlsFiles ?? []), ...(config.envFile === undefined ? [] : [config.envFile])]) this.#protect(f);
    for (const d of [...(config.secretFolders ?? []), defaultConfigDir()]) {
      for (const p of bothForms(d)) {
        const key = p.endsWith(sep) ? p.toLowerCase() : `${p.toLowerCase()}${sep}`;
        if (this.#secretFolders.includes(p)) continue;
        this.#secretFolders.push(p);
        // Only a folder inside the root (or holding it) can be reached: the others cost nothing per request.
        if (this.#inside(key) || this.#lowerPrefix.startsWith(key)) this.#folders.push(key);
      }
    }
    this.addAppFiles([...(config.apps ?? []), ...(config.appFiles ?? [])]);
  }

  /** Files of the apps' module graphs (absolute paths): never read, and their folders take no new modules. */
  addAppFiles(paths: Iterable<string>): void {
    for (const path of paths) {
      if (!this.appsRun) {
        this.appsRun = true;
        // Where the apps run and the served root hold config they read (tsx's tsconfig.json, .npmrc).
        for (const d of bothForms(this.#cwd)) this.#configUp(d);
        this.#configUp(this.root);
      }
      for (const p of this.#protect(path)) {
        const folder = dirname(p);
        this.#appFolders.set(folder.toLowerCase(), folder);
        this.#configUp(folder);
      }
    }
  }

  /**
   * May this file or folder be read: served, listed, zipped or announced by live reload? `path`
   * is the path as reached below the root, `real` its realpath (a link's target). Both must pass:
   * inside the root, no hidden or env name, nothing protected.
   */
  mayRead(path: string, real: string = path): boolean {
    return this.#refusal(path) === undefined && (real === path || this.#refusal(real) === undefined);
  }

  /**
   * Why an upload may not create this file, or undefined when it may. `path` is the target: the
   * deepest existing folder (real path), the folders still to create, then the name.
   */
  writeRefusal(path: string): string | undefined {
    const read = this.#refusal(path);
    if (read !== undefined) return read;
    const lower = path.toLowerCase();
    const name = lower.slice(lower.lastIndexOf(sep) + 1);
    if (PAGE_NAMES.includes(name)) return 'Uploads cannot create index.html, index.htm or 404.html (they would replace a page every visitor sees)';
    if (!this.appsRun) return undefined;
    if (lower.slice(this.#lowerPrefix.length).split(sep).includes('node_modules')) return 'While an app runs, uploads cannot write into node_modules';
    if (APP_CONFIG_NAMES.includes(name)) return `While an app runs, uploads cannot create ${name}`;
    const dot = name.lastIndexOf('.');
    const ext = dot > 0 ? name.slice(dot) : '';
    if (ext === '.node') return 'While an app runs, uploads cannot create native modules (.node)';
    if (MODULE_EXTENSIONS.includes(ext)) {
      for (let d = dirname(lower); ; d = dirname(d)) {
        if (this.#appFolders.has(d)) return `While an app runs, uploads cannot create module files (${ext}) beside or below its code`;
        if (dirname(d) === d) break;
      }
    }
    return undefined;
  }

  /** The rules an exporter must emit for this configuration (root-relative; see DenyRules). */
  denyRules(): DenyRules {
    const configFiles: string[] = [];
    for (const d of this.#configDirs.values()) for (const n of APP_CONFIG_NAMES) configFiles.push(`${d}${d.endsWith(sep) ? '' : sep}${n}`);
    return toDenyRules({
      root: this.root,
      dotfiles: this.dotfiles,
      appsRun: this.appsRun,
      files: [...this.#files.values(), ...configFiles],
      folders: this.#secretFolders,
      appFolders: [...this.#appFolders.values()],
    });
  }

  /** Why `path` may not be read: outside the root, a hidden or env name, a protected file or folder. */
  #refusal(path: string): string | undefined {
    if (path !== this.root && !path.startsWith(this.#prefix)) return 'Upload path leads outside the shared folder';
    // Dot segments only: a scan for "/." instead of splitting every request's path.
    for (let i = path.indexOf(`${sep}.`, this.#prefix.length - 1); i !== -1; i = path.indexOf(`${sep}.`, i + 1)) {
      const end = path.indexOf(sep, i + 1);
      const seg = path.slice(i + 1, end === -1 ? undefined : end);
      if (seg.toLowerCase() === '.git') return 'Uploads into .git are not allowed';
      if (this.appsRun && ENV_NAME.test(seg)) return 'Env files cannot be served or uploaded while an app runs';
      if (UPLOAD_TEMP_NAME.test(seg)) return 'That name is kept for uploads in progress';
      if (!this.dotfiles) return 'Hidden (dot) names cannot be uploaded';
    }
    if (this.#files.size === 0 && this.#folders.length === 0 && this.#configDirs.size === 0) return undefined;
    const lower = path.toLowerCase();
    if (this.#files.has(lower)) return 'That file is protected';
    for (const f of this.#folders) if (lower.startsWith(f) || lower.length === f.length - 1 && f.startsWith(lower)) return 'That folder is protected';
    const cut = lower.lastIndexOf(sep);
    if (APP_CONFIG_NAMES.includes(lower.slice(cut + 1)) && this.#configDirs.has(cut === 0 ? sep : lower.slice(0, cut))) return 'That file is protected';
    return undefined;
  }

  #inside(lower: string): boolean {
    return lower === this.#lowerRoot || lower.startsWith(this.#lowerPrefix);
  }

  /** Protect a file by the path given and its real path (those inside the root); returns both. */
  #protect(path: string): string[] {
    const forms = bothForms(path);
    for (const p of forms) if (this.#inside(p.toLowerCase())) this.#files.set(p.toLowerCase(), p);
    return forms;
  }

  /** `dir` and its ancestors up to the root hold app config. */
  #configUp(dir: string): void {
    for (let d = dir; this.#inside(d.toLowerCase()) && !this.#configDirs.has(d.toLowerCase()); d = dirname(d)) {
      this.#configDirs.set(d.toLowerCase(), d);
      if (dirname(d) === d) break;
    }
  }
}

/** The deny rules for a configuration, without a running server (what `serve-here export` uses). */
export function denyRulesFor(config: ExposureConfig): DenyRules {
  return new Exposure(config).denyRules();
}

/** The path as given (absolute) and its real path, once each. */
function bothForms(path: string): string[] {
  const given = resolve(path);
  let real = given;
  try {
    real = realpathSync(given);
  } catch {
    // not there (yet): the given form is all there is
  }
  return real === given ? [given] : [given, real];
}

function realOrResolved(path: string): string {
  return bothForms(path).at(-1) as string;
}
