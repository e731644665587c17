// The servers run.mjs compares (see README.md, "Servers and their commands").
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(BENCH, '..');
const MODULES = join(BENCH, 'node_modules');
export const NODE = process.execPath;

export const pythonExe = (() => {
  // The real interpreter, not a version-manager shim (a shim adds its own start-up time).
  try {
    return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  } catch {
    return 'python3';
  }
})();

const pkgVersion = (file) => {
  try {
    return JSON.parse(readFileSync(file, 'utf8')).version;
  } catch {
    return '?';
  }
};

/** stdout and stderr of a short command (nginx -v writes to stderr). */
const quiet = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
};

// ---------------------------------------------------------------------------------------------
// nginx: one generated config per start, in a temporary folder, so it runs as root without
// touching /var. Removed by removeNginxDirs() (run.mjs calls it on exit).

export const NGINX = (() => {
  for (const p of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']) {
    try {
      execFileSync(p, ['-v'], { stdio: 'ignore' });
      return p;
    } catch {}
  }
  return 'nginx';
})();
let nginxRoot;

export function nginxConf(tmp, dir, port) {
  // Running as root, workers would switch to `nobody`, who cannot read the 0700 fixture folder.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `${user}daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 16384;
error_log ${tmp}/error.log;
pid ${tmp}/nginx.pid;
events { worker_connections 8192; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log /dev/null;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path ${tmp}/client_body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${dir};
    autoindex on;
  }
}
`;
}

function nginxCmd(dir, port) {
  nginxRoot ??= mkdtempSync(join(os.tmpdir(), 'serve-here-bench-nginx-'));
  const tmp = join(nginxRoot, String(port));
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'nginx.conf'), nginxConf(tmp, dir, port));
  return [NGINX, '-p', tmp, '-c', join(tmp, 'nginx.conf'), '-e', join(tmp, 'error.log')];
}

export function removeNginxDirs() {
  if (nginxRoot !== undefined) rmSync(nginxRoot, { recursive: true, force: true });
  nginxRoot = undefined;
}

// ---------------------------------------------------------------------------------------------

/**
 * `cmd(dir, port)` gives the argv; `shownCmd` replaces it in the results where it has side
 * effects; `cases` limits a reference column to the cases it is a peer in (other cells "—").
 */
export const SERVERS = [
  {
    name: 'serve-here',
    version: pkgVersion(join(ROOT, 'package.json')),
    // Run as npx runs it: the bin itself, so its shebang's V8 flag applies.
    cmd: (dir, port) => [join(ROOT, 'bin/serve-here.js'), dir, '--port', String(port)],
  },
  {
    name: 'nginx',
    version: /nginx\/(\S+)/.exec(quiet(NGINX, ['-v']))?.[1] ?? '?',
    cmd: nginxCmd,
    shownCmd: 'nginx -p TMP -c TMP/nginx.conf -e TMP/error.log (config: see README.md)',
  },
  {
    name: 'floor',
    label: 'node:http from memory (floor)',
    version: process.version,
    cmd: (dir, port) => [NODE, join(BENCH, 'apps/floor.mjs'), join(dir, '1k.js'), String(port)],
    // Also started like the others: the runtime's own start-up is the floor of the start-up row.
    cases: ['small', 'small2k', 'notfound', 'startup'],
  },
  {
    name: 'sirv',
    label: 'sirv-cli',
    version: pkgVersion(join(MODULES, 'sirv-cli/package.json')),
    cmd: (dir, port) => [NODE, join(MODULES, 'sirv-cli/bin.js'), dir, '--port', String(port), '--host', '127.0.0.1'],
  },
  {
    name: 'http-server',
    version: pkgVersion(join(MODULES, 'http-server/package.json')),
    cmd: (dir, port) => [NODE, join(MODULES, 'http-server/bin/http-server'), dir, '-p', String(port), '-a', '127.0.0.1', '-c-1'],
  },
  {
    name: 'serve',
    version: pkgVersion(join(MODULES, 'serve/package.json')),
    cmd: (dir, port) => [NODE, join(MODULES, 'serve/build/main.js'), dir, '-l', `tcp://127.0.0.1:${port}`],
    env: { NO_UPDATE_CHECK: '1' }, // no request to the npm registry on start
  },
  {
    name: 'python',
    label: 'python http.server',
    version: /([\d.]+)/.exec(quiet(pythonExe, ['-c', 'import platform; print(platform.python_version())']))?.[1] ?? '?',
    cmd: (dir, port) => [pythonExe, '-m', 'http.server', String(port), '--bind', '127.0.0.1', '-d', dir],
  },
];

export const ALIASES = { 'sirv-cli': 'sirv', python3: 'python', 'http.server': 'python', 'node:http': 'floor' };
export const labelOf = (s) => s.label ?? s.name;
export const serverNamed = (name) => SERVERS.find((s) => s.name === name);

/** A command as recorded in the results: interpreters by name, paths relative to the repository. */
export const shown = (s) =>
  s.shownCmd ??
  s
    .cmd('DIR', 'PORT')
    .map((a) => (a === NODE ? 'node' : a === pythonExe ? 'python3' : a.startsWith(`${ROOT}/`) ? a.slice(ROOT.length + 1) : a))
    .join(' ');
