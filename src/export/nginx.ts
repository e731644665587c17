// `serve-here export nginx`: nginx serves the folder with serve-here's rules and proxies the app
// mounts to serve-here on loopback. A site file: it goes inside nginx's http {} (conf.d/).
import type { DeployMount, DeployPlan } from './plan.js';
import { appServerArgs } from './plan.js';
import { checkExpressible, denyPatterns, type DenyPattern } from './deny.js';
import { commentText, nginxRegex, nginxString, serverName, shellWord } from './quote.js';

const UPSTREAM = 'serve_here_apps';
/** What a denied path gets: 404 (nothing says the file exists), or the app's answer under a mount, as in serve-here. */
const TO_APP = 'error_page 404 = @serve_here; return 404;';
const NOT_FOUND = 'return 404;';

/** One location body that hands the request to the app server unchanged. */
function proxyLines(indent: string): string {
  return [
    `proxy_pass http://${UPSTREAM};`,
    'proxy_http_version 1.1;',
    '# The Host the client sent (with its port): apps build the same URLs as in development.',
    'proxy_set_header Host $http_host;',
    '# Who the client is, as serve-here --trust-proxy reads it: set here, never taken from the client.',
    'proxy_set_header X-Forwarded-For $remote_addr;',
    'proxy_set_header X-Forwarded-Proto $scheme;',
    'proxy_set_header X-Forwarded-Host $http_host;',
    'proxy_set_header Forwarded "";',
    'proxy_set_header X-Real-IP "";',
    '# WebSockets: pass Upgrade through; otherwise an empty Connection keeps upstream keep-alive.',
    'proxy_set_header Upgrade $http_upgrade;',
    'proxy_set_header Connection $serve_here_connection;',
    '# serve-here sets its own; nginx adds it to every answer.',
    'proxy_hide_header X-Content-Type-Options;',
    '# Stream both ways, as serve-here does (server-sent events, large uploads).',
    'proxy_buffering off;',
    'proxy_request_buffering off;',
  ].map((l) => `${indent}${l}`).join('\n');
}

/** The deny locations: regexes, so they win over the plain prefix locations (`location /`). */
function denyLocations(patterns: readonly DenyPattern[], indent: string, action: string): string[] {
  return patterns.flatMap((p) => [`${indent}# ${commentText(p.why)}`, `${indent}location ~* ${nginxRegex(p.regex, 'a deny rule')} { ${action} }`]);
}

function mountBlock(m: DeployMount, patterns: readonly DenyPattern[]): string[] {
  // ^~: this prefix wins over the server's regex locations, so the deny rules are repeated
  // inside, where a denied path is the app's to answer, as in serve-here. Existing files still
  // win (try_files), the rest and every method but GET/HEAD (the 405 of the static handler) go
  // to the app server.
  const prefix = nginxString(m.prefix, 'the mount prefix');
  const head = m.prefix === '' ? ['    location / {'] : [`    location = ${prefix} {`, '        try_files $uri @serve_here;', '        error_page 405 = @serve_here;', '    }', `    location ^~ ${nginxString(`${m.prefix}/`, 'the mount prefix')} {`];
  return [
    `    # App mount ${m.prefix === '' ? '/' : commentText(m.prefix)}: ${commentText(m.file)}`,
    ...head,
    ...(m.prefix === '' ? [] : denyLocations(patterns, '        ', TO_APP)),
    '        try_files $uri $uri/index.html @serve_here;',
    '        error_page 405 = @serve_here;',
    '    }',
    '',
  ];
}

/** server_name: the --allowed-hosts names (".example.com" is its subdomains, as in serve-here), else what serve-here answers on loopback. */
function serverNames(plan: DeployPlan): string {
  if (plan.hosts.length === 0) return 'localhost 127.0.0.1 [::1]';
  return plan.hosts.map((h) => (h.startsWith('.') ? `*${serverName(h)}` : serverName(h))).join(' ');
}

export function nginxConfig(plan: DeployPlan): string {
  checkExpressible(plan.deny, 'nginx', plan.mounts);
  const patterns = denyPatterns(plan.deny);
  const rootApp = plan.mounts.some((m) => m.prefix === '');
  const spa = plan.spa && !rootApp;
  const http: string[] = [];
  if (plan.mounts.length > 0) {
    http.push(`upstream ${UPSTREAM} {`, `    server 127.0.0.1:${plan.port};`, '    keepalive 16;', '}', '', 'map $http_upgrade $serve_here_connection {', '    default upgrade;', "    ''      '';", '}', '');
  }
  if (spa) {
    http.push('# --spa: unknown paths whose last segment has no dot, asked for as HTML, get /index.html.', 'map "$uri|$http_accept" $serve_here_spa {', '    default 0;', '    "~^[^|]*/[^/.|]*\\|.*text/html" 1;', '}', '');
  }
  http.push(
    '# Requests for any other name (scanners, DNS-rebinding pages) get no answer at all. With TLS,',
    '# add `listen 443 ssl default_server; ssl_reject_handshake on;` here. If nginx -t reports a',
    '# duplicate default server, remove the distribution\'s default site (sites-enabled/default).',
    'server {',
    '    listen 80 default_server;',
    '    server_name _;',
    '    return 444;',
    '}',
    '',
  );
  const server: string[] = [
    'server {',
    '    listen 80;',
    `    server_name ${serverNames(plan)};`,
    `    root ${nginxString(plan.root, 'the folder')};`,
    '    index index.html;',
    '    charset utf-8;',
    '    server_tokens off;',
    '    # serve-here lists folders without index.html; a deployment usually should not.',
    '    autoindex off;',
    '    # The folder\'s own 404.html when there is one, as serve-here.',
    '    error_page 404 /404.html;',
    '    client_max_body_size 1g;',
    '    add_header X-Content-Type-Options nosniff always;',
    '    # serve-here follows a link only while it stays inside the folder; nginx cannot tell that',
    '    # apart, and "if_not_owner" still follows a root-owned link to /etc/passwd in a root-owned',
    '    # site: no links below the root at all (replace them by copies, or relax this knowingly).',
    '    disable_symlinks on from=$document_root;',
    '',
    '    # Never served, as in serve-here (its exposure policy), 404 so nothing tells a visitor',
    `    # the file exists${rootApp ? ' (here: the app at / answers instead, as in serve-here)' : ''}. Case-insensitive, as serve-here compares.`,
    ...denyLocations(patterns, '    ', rootApp ? TO_APP : NOT_FOUND),
    '',
    ...[...plan.mounts].sort((a, b) => b.prefix.length - a.prefix.length).flatMap((m) => mountBlock(m, patterns)),
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
    `# nginx site for ${commentText(plan.root)}, generated by \`serve-here export nginx\`: a starting point.`,
    '# Put it in /etc/nginx/conf.d/ (it belongs inside http {}); add TLS (certbot --nginx) and',
    '# set server_name (and the same names as --allowed-hosts for serve-here).',
    ...(plan.mounts.length > 0 ? ['# The apps run behind it, on loopback (see `serve-here export systemd`):', `#   serve-here ${appServerArgs(plan).map((a) => shellWord(a, 'the command line')).join(' ')}`] : []),
    '',
  ];
  return `${[...head, ...http, ...server].join('\n')}\n`;
}
