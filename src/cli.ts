// The command line: argv → Options → a running server. The only module that prints usage or exits.
import { CommanderError, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { createLogger, type Logger } from './log.js';
import { parseOptions, type Options, type RawFlags } from './options.js';
import { errorCode, ServeHereError } from './errors.js';
import { buildProgram as buildCommand } from './program.js';
import { checkApps, checkDir, checkEnvFile, insideWarnings } from './preflight.js';
import type { ServeHere } from './server.js';
import { localUrl, networkUrls, openBrowser, printBanner, type BannerInfo } from './banner.js';
import type { ShareBanner } from './share/setup.js';
import type { AddressInfo } from 'node:net';
import type { AppRouter } from './app/contract.js';
import { isLoopbackAddress } from './host-check.js';
import { accessNeeded } from './gate.js';
import { adaptYoungGeneration } from './young-generation.js';
import { defaultConfigDir } from './share/config-dir.js';
import { clusterRun, handleSignals, isClusterWorker } from './lifecycle.js';
import { installProcessNet } from './guard.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The commander program with this package's version (tests compare its --help with the README). */
export function buildProgram(): Command {
  return buildCommand(pkg.version);
}

/** Parse argv; returns Options, or throws (CommanderError for --help/--version and usage errors). */
export function parseArgv(argv: string[]): Options {
  const program = buildProgram();
  program.parse(argv, { from: 'user' });
  const flags = program.opts<Omit<RawFlags, 'dir'>>();
  return parseOptions({ ...flags, dir: program.args[0] });
}

function listenError(error: unknown, opts: Options): ServeHereError {
  const code = errorCode(error);
  const where = `${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}`;
  if (code === 'EADDRINUSE') {
    return new ServeHereError(`Port ${opts.port} is already in use on ${opts.host}`, { hint: 'Choose another with --port, or --port 0 for any free port.' });
  }
  if (code === 'EACCES') return new ServeHereError(`Not allowed to listen on ${where}`, { hint: 'Ports below 1024 need privileges; try --port 8000.' });
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new ServeHereError(`Cannot listen on ${where}: no such address on this machine`, { hint: 'Use --host with no value to listen on every interface.' });
  }
  return new ServeHereError(`Cannot listen on ${where}: ${error instanceof Error ? error.message : String(error)}`);
}

/** Start serving; resolves once listening. */
export async function run(opts: Options, log: Logger): Promise<ServeHere> {
  const root = checkDir(opts.dir);
  checkApps(opts);
  checkEnvFile(opts);
  // Sharing's own code (keys, passwords, certificates, the QR code) is loaded only when shared.
  const setup = opts.https || accessNeeded(opts.host, opts.auth) ? await import('./share/setup.js') : undefined;
  const auth = setup?.authFor(opts);
  const tls = await setup?.tlsFor(opts);
  const { apps, createServer } = await startAppsAndServer(opts, root, log);
  const serveHere = createServer({
    root,
    dotfiles: opts.dotfiles,
    // The exposure policy must know the secrets the flags point at, wherever they lie.
    envFile: opts.envFile,
    tlsFiles: [opts.cert, opts.key].filter((f) => f !== undefined),
    secretFolders: [defaultConfigDir()],
    listing: opts.listing,
    cors: opts.cors,
    spa: opts.spa,
    host: opts.host,
    allowedHosts: opts.allowedHosts,
    trustProxy: opts.trustProxy,
    live: opts.live,
    poll: opts.poll,
    stripPrefix: opts.stripPrefix,
    upload: opts.upload ? { maxBytes: opts.maxUpload } : undefined,
    ...(auth === undefined ? {} : { auth }),
    ...(tls === undefined ? {} : { tls: { key: tls.key, cert: tls.cert } }),
    logger: log,
    secrets: clusterRun,
    ...(apps === undefined ? {} : { app: apps }),
  });
  // Not when the apps run in this process (--no-watch): their allocation pattern is theirs.
  if (opts.apps.length === 0 || opts.watch) adaptYoungGeneration(serveHere.server);
  let address;
  try {
    address = await serveHere.listen({ port: opts.port, host: opts.host, portFallback: opts.portExplicit ? 0 : 50 });
  } catch (error) {
    await apps?.close();
    throw listenError(error, opts);
  }
  const banner = bannerInfo(opts, root, address, apps?.describe() ?? []);
  const local = localUrl(address);
  const share: ShareBanner =
    setup === undefined
      ? { local, network: [], qr: undefined, notes: [], warnings: [] }
      : await setup.shareBanner(address, banner.address.address === '::' || banner.address.address === '0.0.0.0' ? networkUrls(address.port) : [], local, serveHere.access, tls);
  banner.urls = { local: share.local, network: share.network };
  banner.qr = share.qr;
  banner.notes = share.notes;
  banner.warnings = [...(banner.warnings ?? []), ...share.warnings];
  if (isClusterWorker) {
    // A node:cluster worker (--workers): the primary prints the banner once for all workers.
    process.send?.({ type: 'serve-here:listening', banner });
    return serveHere;
  }
  printBanner(log, banner);
  apps?.afterBanner?.();
  if (opts.open) openBrowser(share.local, log);
  return serveHere;
}

function bannerInfo(opts: Options, root: string, address: AddressInfo, apps: string[]): BannerInfo {
  return {
    version: pkg.version,
    dir: root,
    address,
    movedFrom: address.port !== opts.port && opts.port !== 0 ? opts.port : undefined,
    dotfiles: opts.dotfiles,
    tty: process.stdout.isTTY === true,
    apps,
    warnings: [
      // Loopback does not help here: a page open in the browser fetches from 127.0.0.1 itself.
      ...(opts.cors ? ['--cors: any website open in your browser can read this folder'] : []),
      ...insideWarnings(opts, root),
      // Static first, app for the rest: an app at / takes every PUT, so no upload reaches the folder.
      ...(opts.upload && opts.apps.some((a) => a.prefix === '') ? ['--upload: the app at / answers every PUT, so nothing is uploaded into the folder; mount it at a prefix (--app /api=app.ts) to take uploads elsewhere'] : []),
      // The inspector runs any code it is sent: beyond loopback, that is anyone on the network.
      ...(opts.inspect !== undefined && !isLoopbackAddress(opts.inspect.host)
        ? [`--inspect on ${opts.inspect.host}:${opts.inspect.port}: anyone who can reach that port can run code as you`]
        : []),
    ],
  };
}

/**
 * Load the server's own modules and start the apps. With app processes (watch mode) the first
 * one is spawned before the server's modules load, so its boot (node, then the TypeScript
 * loader) runs beside that work instead of after it. In process (--no-watch), the server's
 * modules load first: the app's loader, registered in this process, must never see them.
 */
async function startAppsAndServer(opts: Options, root: string, log: Logger): Promise<{ apps: AppRouter | undefined; createServer: typeof import('./server.js').createServer }> {
  if (!opts.watch || opts.apps.length === 0) {
    const { createServer } = await import('./server.js');
    return { apps: await startApps(opts, root, log), createServer };
  }
  const starting = startApps(opts, root, log);
  starting.catch(() => {}); // awaited below, once the server's modules are in
  const { createServer } = await import('./server.js');
  return { apps: await starting, createServer };
}

async function startApps(opts: Options, root: string, log: Logger): Promise<AppRouter | undefined> {
  if (opts.apps.length === 0) return undefined;
  const { startAppHost } = await import('./app/start.js');
  return startAppHost(opts, root, log);
}

export async function main(argv: string[]): Promise<void> {
  // `serve-here --help | head`: a reader that closes the pipe early ends the output, not in a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
  });
  let opts: Options;
  const log0 = createLogger();
  if (argv[0] === 'export') return printExport(argv.slice(1), log0);
  try {
    opts = parseArgv(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // exitCode, not exit(): let stdout/stderr drain (pipes can be asynchronous).
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
        process.exitCode = 0;
        return;
      }
      process.stderr.write('Run `serve-here --help` for usage.\n');
      process.exitCode = 2;
      return;
    }
    return fail(error, log0);
  }
  const log = createLogger({ format: opts.log, quiet: opts.quiet });
  // The last net under every connection's boundary (src/guard.ts): what no connection explains
  // stops the process with one line and exit code 1.
  installProcessNet(log);
  if (opts.workers > 1 && !isClusterWorker) {
    try {
      return await (await import('./workers.js')).runPrimary(opts, log);
    } catch (error) {
      fail(error, log);
    }
  }
  const signals = handleSignals(log);
  try {
    signals.serving(await run(opts, log));
  } catch (error) {
    fail(error, log);
  }
}

/** `serve-here export <target> …`: a deployment starting point on stdout (src/export/). */
async function printExport(argv: string[], log: Logger): Promise<void> {
  const { exportText } = await import('./export/command.js');
  try {
    process.stdout.write(await exportText(argv, parseArgv, process.cwd()));
  } catch (error) {
    if (!(error instanceof CommanderError)) return fail(error, log);
    process.exitCode = error.code.startsWith('commander.help') || error.code === 'commander.version' ? 0 : 2;
    if (process.exitCode === 2) process.stderr.write('Run `serve-here --help` for usage.\n');
  }
}

function fail(error: unknown, log: Logger): never {
  if (error instanceof ServeHereError) {
    log.error(`serve-here: ${error.message}`);
    if (error.hint !== undefined) process.stderr.write(`${error.hint}\n`);
    process.exit(error.exitCode);
  }
  log.error(`serve-here: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
}
