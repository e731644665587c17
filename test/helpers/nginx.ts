// Run Debian's nginx in the foreground from a temp prefix (-p/-c/-e): its own pid file, logs and
// temp folders, a site file included in http {}, listening on loopback only. Stopped by PID.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnExe } from './bin.js';
import { canConnect, freePort } from './engines.js';
import { waitUntil } from './http.js';

export const NGINX = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));

export interface RunningNginx {
  port: number;
  stop(): Promise<void>;
  errorLog(): Promise<string>;
}

/** Start nginx with `site` (a generated site config whose `listen 80` lines are moved to 127.0.0.1:free port). */
export async function startNginx(prefix: string, site: string): Promise<RunningNginx> {
  if (NGINX === undefined) throw new Error('nginx is not installed');
  const port = await freePort();
  // Every server of the site (its own and the default one for unknown names) moves to the port.
  const listen = site.replace(/^ {4}listen 80( default_server)?;$/gm, (_m, d: string | undefined) => `    listen 127.0.0.1:${port}${d ?? ''};`);
  if (listen === site) throw new Error('the site config has no "listen 80;" line');
  await mkdir(join(prefix, 'tmp'), { recursive: true });
  await writeFile(join(prefix, 'site.conf'), listen);
  const mime = existsSync('/etc/nginx/mime.types') ? 'include /etc/nginx/mime.types;' : 'types { text/html html; text/css css; application/javascript js; }';
  await writeFile(
    join(prefix, 'nginx.conf'),
    `daemon off;
worker_processes 1;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} warn;
${process.getuid?.() === 0 ? 'user root root;' : ''}
events { worker_connections 128; }
http {
  ${mime}
  default_type application/octet-stream;
  access_log off;
  client_body_temp_path ${join(prefix, 'tmp', 'body')};
  proxy_temp_path ${join(prefix, 'tmp', 'proxy')};
  fastcgi_temp_path ${join(prefix, 'tmp', 'fastcgi')};
  uwsgi_temp_path ${join(prefix, 'tmp', 'uwsgi')};
  scgi_temp_path ${join(prefix, 'tmp', 'scgi')};
  include ${join(prefix, 'site.conf')};
}
`,
  );
  const proc = spawnExe(NGINX, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')], { cwd: prefix });
  const { readFile } = await import('node:fs/promises');
  const errorLog = async (): Promise<string> => (await readFile(join(prefix, 'error.log'), 'utf8').catch(() => '')) + proc.stderr();
  const stop = async (): Promise<void> => {
    // SIGQUIT: graceful stop of master and workers (SIGTERM is a fast stop; either ends both).
    await proc.stop('SIGQUIT');
  };
  try {
    await waitUntil(async () => {
      if (proc.child.exitCode !== null) throw new Error(`nginx exited: ${await errorLog()}`);
      return (await canConnect(port)) ? true : undefined;
    }, 10_000, `nginx on port ${port}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, stop, errorLog };
}
