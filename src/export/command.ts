// `serve-here export <target> [dir] [flags]`: print a deployment starting point built from the
// same flags the developer serves with. Plain text on stdout; nothing is written to disk.
import { UsageError } from '../errors.js';
import type { Options } from '../options.js';
import { denoEntry, workersEntry } from './entry.js';
import { nginxConfig } from './nginx.js';
import { planFrom, type DeployPlan } from './plan.js';
import { systemdUnit } from './systemd.js';

const TARGETS: Record<string, { about: string; needsApp: boolean; render(plan: DeployPlan): string | Promise<string> }> = {
  nginx: { about: 'nginx serves the folder, the app mounts proxied to serve-here', needsApp: false, render: nginxConfig },
  systemd: { about: 'a unit running the apps with serve-here --no-watch --workers N on loopback', needsApp: true, render: systemdUnit },
  deno: { about: 'a `deno serve` entry: the folder plus the fetch-handler apps', needsApp: true, render: denoEntry },
  workers: { about: 'a Cloudflare Workers entry and wrangler config for the fetch-handler apps', needsApp: true, render: workersEntry },
};

export const EXPORT_TARGETS = Object.keys(TARGETS);

function targetList(): string {
  return EXPORT_TARGETS.map((t) => `  ${t.padEnd(8)} ${TARGETS[t]?.about ?? ''}`).join('\n');
}

/**
 * The text for `serve-here export <target> …rest`; `parse` turns the rest into Options exactly
 * as `serve-here …rest` would (throwing on usage errors).
 */
export async function exportText(argv: readonly string[], parse: (argv: string[]) => Options, cwd: string): Promise<string> {
  const [target, ...rest] = argv;
  const spec = target === undefined ? undefined : TARGETS[target];
  if (target === undefined || spec === undefined) {
    throw new UsageError(target === undefined ? 'export needs a target' : `Unknown export target "${target}"`, `Targets:\n${targetList()}\nExample: serve-here export nginx dist --app /api=api.ts`);
  }
  // The deployment runs --no-watch anyway, so `--workers 4` alone is fine here.
  const opts = parse(rest.includes('--no-watch') ? rest : [...rest, '--no-watch']);
  if (spec.needsApp && opts.apps.length === 0) {
    throw new UsageError(`export ${target} needs --app`, `Give the app mounts you serve with, e.g. serve-here export ${target} --app /api=api.ts`);
  }
  return await spec.render(planFrom(opts, cwd));
}
