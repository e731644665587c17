// What the terminal shows at startup: the folder, the URLs, how to share; and --open.
import { networkInterfaces } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Logger } from './log.js';
import { isLoopbackAddress } from './host-check.js';

export interface BannerInfo {
  version: string;
  dir: string;
  address: AddressInfo;
  /** The port that was asked for, when the server had to move to another one. */
  movedFrom: number | undefined;
  dotfiles: boolean;
  tty: boolean;
  apps: string[];
  /**
   * Lines the user should not miss, shown after the URLs with a ⚠ (on stderr when not a TTY, so
   * the banner stays one line): e.g. "--cors: any website … can read this folder", or the app
   * layer's "apps run with NODE_ENV=production because the server is shared".
   */
  warnings?: string[] | undefined;
  /** When sharing: the URLs as they must be opened (scheme, key), a QR code, notes on access. */
  urls?: { local: string; network: string[] } | undefined;
  qr?: string[] | undefined;
  notes?: string[] | undefined;
}

const isAllInterfaces = (a: string): boolean => a === '::' || a === '0.0.0.0';

function urlFor(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
}

/** The URL a browser on this machine should open. */
export function localUrl(address: AddressInfo): string {
  if (isAllInterfaces(address.address)) return urlFor('localhost', address.port);
  return urlFor(address.address, address.port);
}

/** LAN URLs: every non-internal IPv4 address (read locally, no network call). */
export function networkUrls(port: number): string[] {
  const urls: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const ni of list ?? []) {
      if (!ni.internal && ni.family === 'IPv4') urls.push(urlFor(ni.address, port));
    }
  }
  return urls;
}

/** Print the banner: a few aligned lines on a terminal, one plain line otherwise. */
export function printBanner(log: Logger, info: BannerInfo): void {
  const c = log.colors;
  const { address } = info;
  const local = info.urls?.local ?? localUrl(address);
  const shared = isAllInterfaces(address.address);
  const network = info.urls?.network ?? (shared ? networkUrls(address.port) : []);
  const moved = info.movedFrom === undefined ? undefined : `port ${info.movedFrom} was busy, using ${address.port}`;
  if (!info.tty) {
    const extras = [
      ...network.map((u) => `network ${u}`),
      // With no LAN IPv4 address to show (IPv6-only, or offline), still say the folder is exposed.
      ...(shared && network.length === 0 ? ['shared on all interfaces'] : []),
      ...(moved === undefined ? [] : [moved]),
      ...info.apps,
    ];
    log.info(`serve-here ${info.version}: serving ${info.dir} at ${local}${extras.length > 0 ? ` (${extras.join(', ')})` : ''}`);
    for (const n of info.notes ?? []) log.info(n);
    if (info.qr !== undefined) log.info(info.qr.join('\n'));
    for (const w of info.warnings ?? []) log.warn(`⚠ ${w}`);
    return;
  }
  const lines = [
    '',
    `  ${c.bold('serve-here')} ${c.dim(info.version)}`,
    `  ${c.dim('Serving')}  ${info.dir}${info.dotfiles ? c.yellow('  (dotfiles served)') : ''}`,
    `  ${c.dim('Local:')}    ${c.cyan(local)}`,
  ];
  for (const u of network) lines.push(`  ${c.dim('Network:')}  ${c.cyan(u)}`);
  if (info.qr !== undefined) lines.push('', ...info.qr.map((l) => `  ${l}`), '');
  for (const n of info.notes ?? []) lines.push(`  ${c.dim(n)}`);
  for (const app of info.apps) lines.push(`  ${c.dim('App:')}      ${app}`);
  if (moved !== undefined) lines.push(`  ${c.yellow(`Note: ${moved}.`)}`);
  for (const w of info.warnings ?? []) lines.push(`  ${c.yellow(`⚠ ${w}`)}`);
  if (isLoopbackAddress(address.address)) lines.push(c.dim('  Only this computer can connect. Add --host to share on your network.'));
  else if (shared && info.urls === undefined) lines.push(c.yellow('  Shared with your network: anyone who can reach this machine can read this folder.'));
  lines.push('');
  log.info(lines.join('\n'));
}

/** Open a URL in the browser: $BROWSER if set, else the platform's opener. Errors are reported, not fatal. */
export function openBrowser(url: string, log: Logger): void {
  const browser = process.env.BROWSER;
  const [cmd, args] =
    browser !== undefined && browser !== ''
      ? [browser, [url]]
      : process.platform === 'darwin'
        ? ['open', [url]]
        : process.platform === 'win32'
          ? ['cmd', ['/c', 'start', '""', url]]
          : ['xdg-open', [url]];
  try {
    // node:child_process is loaded only for --open.
    const { spawn } = process.getBuiltinModule('node:child_process');
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => log.warn(`Could not open a browser (${cmd}); open ${url} yourself`));
    child.unref();
  } catch {
    log.warn(`Could not open a browser; open ${url} yourself`);
  }
}
