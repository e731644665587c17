// Where serve-here keeps its own files (the generated HTTPS key): known to the exposure policy
// without loading the certificate code.
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** `$XDG_CONFIG_HOME/serve-here`, else `~/.config/serve-here`. */
export function defaultConfigDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const xdg = env['XDG_CONFIG_HOME'];
  return join(xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), '.config'), 'serve-here');
}
