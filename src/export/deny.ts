// The exposure policy's deny rules (exposure/rules.ts) in the two shapes exporters write: URL-path
// regexes (nginx locations, the Deno entry) and gitignore lines (Workers' .assetsignore). Rules a
// target cannot express make the export fail with one line instead of being dropped.
import { readdir, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { DenyRules } from '../exposure/policy.js';
import { UsageError } from '../errors.js';
import { ignoreLine, plainText, regexLiteral } from './quote.js';

/** One kind of denied path, named in the generated file's comments. */
export interface DenyPattern {
  why: string;
  /** A regex on the decoded, normalised URL path ("/a/b.js"), matched case-insensitively. */
  regex: string;
}

/** A name pattern of DenyRules.names (a trailing `*` matches any rest) as a regex on one segment. */
function nameRegex(name: string): string {
  return name.endsWith('*') ? `${regexLiteral(name.slice(0, -1))}[^/]*` : regexLiteral(name);
}

/**
 * Fail closed where a front server cannot follow serve-here: an app module in the served folder's
 * root would mean hiding every .js/.json file of the site (the modules the app loads later are not
 * known here), and a served folder inside a secret one would be all hidden.
 */
export function checkExpressible(rules: DenyRules, target: string, apps: readonly { file: string }[]): void {
  if (rules.folders.includes('')) throw new UsageError(`Cannot export ${target}: the served folder lies inside serve-here's own key folder`, 'Serve another folder.');
  if (rules.appFolders.includes('')) {
    const app = apps.map((a) => a.file).join(', ');
    throw new UsageError(
      `Cannot export ${target}: the app (${plainText(app, 'the app')}) lies in the served folder itself, and ${target} cannot tell its modules from the site's scripts`,
      `Serve a subfolder for the files (e.g. serve-here export ${target} public --app …) or move the app into its own folder (--app /api=server/api.ts).`,
    );
  }
}

/** The rules as URL-path regexes, one per kind of denied path. */
export function denyPatterns(rules: DenyRules): DenyPattern[] {
  const out: DenyPattern[] = [];
  const alt = (items: readonly string[]): string => (items.length === 1 ? (items[0] ?? '') : `(${items.join('|')})`);
  out.push({ why: `at any depth, whatever --dotfiles says: ${rules.names.join(' ')}`, regex: `/${alt(rules.names.map(nameRegex))}(/|$)` });
  if (rules.dotfiles) out.push({ why: 'dotfiles (serve-here without --dotfiles)', regex: '/\\.' });
  for (const f of rules.files) {
    // `/key` would reach key.html through the clean-URL rule: an .html file is denied both ways.
    const lit = regexLiteral(plainText(f, 'a protected file'));
    out.push({ why: `protected: ${f}`, regex: f.toLowerCase().endsWith('.html') ? `^/${lit.slice(0, -'\\.html'.length)}(\\.html)?$` : `^/${lit}$` });
  }
  for (const d of rules.folders) out.push({ why: `protected folder: ${d}/`, regex: `^/${regexLiteral(plainText(d, 'a protected folder'))}(/|$)` });
  if (rules.appFolders.length > 0) {
    const exts = rules.sourceExtensions.map((e) => regexLiteral(e.replace(/^\./, '')));
    const dirs = rules.appFolders.map((d) => regexLiteral(plainText(d, 'an app folder')));
    out.push({ why: `app sources (${rules.sourceExtensions.join(' ')}) in the apps' folders and below`, regex: `^/${alt(dirs)}/(.*/)?[^/]*\\.${alt(exts)}$` });
  }
  return out;
}

/** The rules as .assetsignore lines (gitignore syntax), each anchored at the assets folder. */
export function ignoreLines(rules: DenyRules): string[] {
  const name = (n: string): string => (n.endsWith('*') ? `${ignoreLine(n.slice(0, -1), 'a name')}*` : ignoreLine(n, 'a name'));
  const lines = rules.names.map(name);
  if (rules.dotfiles) lines.push('.*');
  for (const f of rules.files) lines.push(`/${ignoreLine(f, 'a protected file')}`);
  for (const d of rules.folders) lines.push(`/${ignoreLine(d, 'a protected folder')}/`);
  for (const d of rules.appFolders) for (const e of rules.sourceExtensions) lines.push(`/${ignoreLine(d, 'an app folder')}/**/*${ignoreLine(e, 'an extension')}`);
  return lines;
}

/** More entries than this and the folder is not searched for links (the export refuses instead). */
const MAX_ENTRIES = 200_000;

/**
 * Symbolic links below `root` whose target lies outside it, as root-relative paths: for targets
 * that upload files (Workers) and so cannot refuse links when serving. `.git` is not searched.
 */
export async function linksOut(root: string): Promise<string[]> {
  const realRoot = await realpath(root).catch(() => undefined);
  if (realRoot === undefined) return []; // no folder yet: nothing to upload either
  const found: string[] = [];
  const stack = [root];
  let seen = 0;
  for (let dir = stack.pop(); dir !== undefined; dir = stack.pop()) {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (++seen > MAX_ENTRIES) throw new UsageError(`Cannot export: more than ${MAX_ENTRIES} files to search for links out of the folder`, 'Export a smaller folder.');
      const path = join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== '.git') stack.push(path);
      if (!entry.isSymbolicLink()) continue;
      const target = await realpath(path).catch(() => undefined);
      const rel = target === undefined ? '..' : relative(realRoot, target);
      // Links inside are not followed: what they lead to is searched where it really lies.
      if (rel === '..' || rel.startsWith(`..${sep}`) || rel.startsWith(sep)) found.push(relative(root, path).split(sep).join('/'));
    }
  }
  return found.sort();
}
