// `serve-here export nginx`: nginx serves the folder with serve-here's rules and proxies the app
// mounts to serve-here on loopback. A site file: it goes inside nginx's http {} (conf.d/).
import { UsageError } from '../errors.js';
import type { DeployMount, DeployPlan } from './plan.js';
import { appServerArgs } from './plan.js';

const UPSTREAM = 'serve_here_apps';

/** One location body that hands the request to the app server unchanged. */
function proxyLines(indent: string): string {
  return [
    `proxy_pass http://${UPSTREAM};`,
    'proxy_http_version 1.1;',
    '# The Host the client sent (with its port): apps build the same URLs as in development.',
    'proxy_set_header Host $http_host;',
    'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    'proxy_set_header X-Forwarded-Proto $scheme;',
    'proxy_set_header X-Forwarded-Host $http_host;',
    '# WebSockets: pass Upgrade through; otherwise an empty Connection keeps upstream keep-alive.',
    'proxy_set_header Upgrade $http_upgrade;',
    'proxy_set_header Connection $serve_here_connection;',
    '# Stream both ways, as serve-here does (server-sent events, large uploads).',
    'proxy_buffering off;',
    'proxy_request_buffering off;',
  ].map((l) => `${indent}${l}`).join('\n');
}

/** A path as one quoted nginx argument; `$` would be read as a variable, so it is refused. */
function quote(value: string): string {
  if (/["$\\\n]/.test(value)) throw new UsageError(`Cannot write "${value}" into an nginx config`, 'Rename the folder without quotes, $ or backslashes.');
  return `"${value}"`;
}

function hiddenFiles(plan: DeployPlan): string[] {
  const lines: string[] = [];
  for (const m of plan.mounts) {
    if (m.servedAs === undefined) continue;
    const dir = m.servedAs.slice(0, m.servedAs.lastIndexOf('/'));
    for (const path of [m.servedAs, `${dir}/package.json`, `${dir}/tsconfig.json`]) {
      if (!lines.some((l) => l.includes(` ${path} `))) lines.push(`    location = ${path} { return 404; }`);
    }
  }
  if (lines.length === 0) return [];
  return ['    # The apps\' files are never served (serve-here hides their whole module graph; here only', '    # the entry files are known: keep app sources outside the served folder).', ...lines, ''];
}

function mountBlock(m: DeployMount): string[] {
  // ^~: this prefix wins over the dotfile regex below, as in serve-here, where a hidden name
  // under a mount is the app's to answer. Existing files still win (try_files), the rest and
  // every method but GET/HEAD (the 405 of the static handler) go to the app server.
  const head = m.prefix === '' ? ['    location / {'] : [`    location = ${m.prefix} {`, '        try_files $uri @serve_here;', '        error_page 405 = @serve_here;', '    }', `    location ^~ ${m.prefix}/ {`];
  return [
    `    # App mount ${m.prefix === '' ? '/' : m.prefix}: ${m.file}`,
    ...head,
    '        location ~ /\\. { try_files /nonexistent @serve_here; }',
    '        try_files $uri $uri/index.html @serve_here;',
    '        error_page 405 = @serve_here;',
    '    }',
    '',
  ];
}

export function nginxConfig(plan: DeployPlan): string {
  const rootApp = plan.mounts.some((m) => m.prefix === '');
  const spa = plan.spa && !rootApp;
  const http: string[] = [];
  if (plan.mounts.length > 0) {
    http.push(`upstream ${UPSTREAM} {`, `    server 127.0.0.1:${plan.port};`, '    keepalive 16;', '}', '', 'map $http_upgrade $serve_here_connection {', '    default upgrade;', "    ''      '';", '}', '');
  }
  if (spa) {
    http.push('# --spa: unknown paths whose last segment has no dot, asked for as HTML, get /index.html.', 'map "$uri|$http_accept" $serve_here_spa {', '    default 0;', '    "~^[^|]*/[^/.|]*\\|.*text/html" 1;', '}', '');
  }
  const server: string[] = [
    'server {',
    '    listen 80;',
    `    server_name ${plan.hosts.length > 0 ? plan.hosts.join(' ') : '_'};`,
    `    root ${quote(plan.root)};`,
    '    index index.html;',
    '    charset utf-8;',
    '    server_tokens off;',
    '    # serve-here lists folders without index.html; a deployment usually should not.',
    '    autoindex off;',
    '    # The folder\'s own 404.html when there is one, as serve-here.',
    '    error_page 404 /404.html;',
    '    client_max_body_size 1g;',
    '',
    '    # Hidden, as in serve-here: .git always, other dotfiles unless --dotfiles; 404, not 403,',
    '    # so nothing tells a visitor the file exists.',
    '    location ~ (^|/)\\.git(/|$) { return 404; }',
    ...(plan.dotfiles ? [] : ['    location ~ /\\. { return 404; }']),
    '',
    ...hiddenFiles(plan),
    ...[...plan.mounts].sort((a, b) => b.prefix.length - a.prefix.length).flatMap(mountBlock),
  ];
  if (!rootApp) {
    server.push(
      '    # Static files: the file, the folder\'s index.html, the clean URL (/about → about.html).',
      '    location / {',
      `        try_files $uri $uri/ $uri.html ${spa ? '@spa' : '=404'};`,
      '    }',
      '',
    );
    if (spa) server.push('    location @spa {', '        if ($serve_here_spa = 0) { return 404; }', '        try_files /index.html =404;', '    }', '');
  }
  if (plan.mounts.length > 0) server.push('    location @serve_here {', proxyLines('        '), '    }');
  server.push('}');
  const head = [
    `# nginx site for ${plan.root}, generated by \`serve-here export nginx\`: a starting point.`,
    '# Put it in /etc/nginx/conf.d/ (it belongs inside http {}); add TLS (certbot --nginx) and',
    '# set server_name (and the same names as --allowed-hosts for serve-here).',
    ...(plan.mounts.length > 0 ? ['# The apps run behind it, on loopback (see `serve-here export systemd`):', `#   serve-here ${appServerArgs(plan).join(' ')}`] : []),
    '',
  ];
  return `${[...head, ...http, ...server].join('\n')}\n`;
}
