// The command line: argv → Options → a running server. The only module that prints usage or exits.
import { Command, CommanderError, Option } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createLogger, type Logger } from './log.js';
import { parseOptions, DEFAULT_PORT, type Options, type RawFlags } from './options.js';
import { errorCode, ServeHereError } from './errors.js';
import { createServer, type ServeHere } from './server.js';
import { localUrl, openBrowser, printBanner, type BannerInfo } from './banner.js';
import type { AddressInfo } from 'node:net';
import type { AppRouter } from './app/contract.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * Set by the primary for its --workers processes (read once, then removed so apps never see it).
 * Checked instead of importing node:cluster, which costs start-up time in the common case.
 */
const WORKER_ENV = 'SERVE_HERE_CLUSTER_WORKER';
const isClusterWorker = process.env[WORKER_ENV] === '1';
delete process.env[WORKER_ENV];

/** Build the commander program (exported so tests can compare --help with the README). */
export function buildProgram(): Command {
  const program = new Command('serve-here');
  program
    .description('Serve a folder over HTTP, and mount app modules that reload on save.')
    .argument('[dir]', 'folder to serve (default: the current folder)')
    .option('-d, --directory <dir>', 'folder to serve, as in python -m http.server')
    .option('-p, --port <port>', `port to listen on; 0 picks any free port (default: ${DEFAULT_PORT}, or the next free one)`)
    .option('--host [addr]', 'share on the network: bind all interfaces, or the address given (default: loopback only)')
    .option('-b, --bind <addr>', 'bind this address, as in python -m http.server')
    .option('--allowed-hosts <hosts>', 'comma-separated Host names to answer besides localhost (".example.com" allows subdomains)')
    .option('--cors', 'send Access-Control-Allow-Origin: * (never with credentials)')
    .option('--spa', 'serve index.html for unknown extensionless paths that accept HTML')
    .option('--dotfiles', 'serve and list dotfiles (.git stays hidden)')
    .option('--no-listing', 'do not list folders without index.html')
    .option('-q, --quiet', 'no request lines (errors are still shown)')
    .addOption(new Option('--log <format>', 'request log format').choices(['dev', 'combined', 'json']).default('dev'))
    .option('--open', 'open the browser at the served URL ($BROWSER if set)')
    .option('--app <[prefix=]file>', 'mount a request handler module (repeatable): app.ts at /, /api=api.ts at /api', collect, [] as string[])
    .addOption(new Option('--app-style <style>', 'calling convention instead of detecting it').choices(['fetch', 'node', 'wsgi']))
    .option('--no-strip-prefix', 'apps at a prefix see the full path (Hono basePath) instead of the path below the prefix')
    .option('--env-file <file>', 'load environment variables for the apps from this file')
    .option('--no-watch', 'run apps in this process, without reloading on change')
    .option('--workers <n>', 'prefork n processes sharing the port (with --app --no-watch)')
    .version(pkg.version, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .showSuggestionAfterError(true)
    .configureOutput({
      // One line in our own voice: "serve-here: unknown option '--nope' (did you mean --open?)".
      outputError: (text, write) =>
        write(`serve-here: ${text.replace(/^error: /, '').replace(/\s*\n\((Did you mean [^)]*)\)/, (_m, s: string) => ` (${s.charAt(0).toLowerCase()}${s.slice(1)})`).trim()}\n`),
    })
    .exitOverride();
  return program;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Parse argv; returns Options, or throws (CommanderError for --help/--version and usage errors). */
export function parseArgv(argv: string[]): Options {
  const program = buildProgram();
  program.parse(argv, { from: 'user' });
  const flags = program.opts<Omit<RawFlags, 'dir'>>();
  return parseOptions({ ...flags, dir: program.args[0] });
}

function checkDir(dir: string): string {
  const abs = resolve(dir);
  let isDir: boolean;
  try {
    isDir = statSync(abs).isDirectory();
  } catch (error) {
    throw new ServeHereError(`Cannot serve directory "${dir}": ${errorCode(error) === 'ENOENT' ? 'no such directory' : 'cannot read it'}`, {
      hint: 'Give an existing folder, e.g. `serve-here ./public`.',
    });
  }
  if (!isDir) throw new ServeHereError(`Cannot serve "${dir}": it is a file, not a folder`, { hint: 'Give the folder that contains it.' });
  return abs;
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
  const apps = await startApps(opts, root, log);
  const serveHere = createServer({
    root,
    dotfiles: opts.dotfiles,
    listing: opts.listing,
    cors: opts.cors,
    spa: opts.spa,
    host: opts.host,
    allowedHosts: opts.allowedHosts,
    logger: log,
    stripPrefix: opts.stripPrefix,
    ...(apps === undefined ? {} : { app: apps }),
  });
  let address;
  try {
    address = await serveHere.listen({ port: opts.port, host: opts.host, portFallback: opts.portExplicit ? 0 : 50 });
  } catch (error) {
    await apps?.close();
    throw listenError(error, opts);
  }
  const banner = bannerInfo(opts, root, address, apps?.describe() ?? []);
  if (isClusterWorker) {
    // A node:cluster worker (--workers): the primary prints the banner once for all workers.
    process.send?.({ type: 'serve-here:listening', banner });
    return serveHere;
  }
  printBanner(log, banner);
  if (opts.open) openBrowser(localUrl(address), log);
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
  };
}

/**
 * --workers N: the primary forks N processes that each run the whole server (static files and
 * the app in process) and share the listening socket through node:cluster.
 */
async function runPrimary(opts: Options, log: Logger): Promise<void> {
  const { default: cluster } = await import('node:cluster');
  checkDir(opts.dir);
  let printed = false;
  let stopping = false;
  for (let i = 0; i < opts.workers; i++) cluster.fork({ [WORKER_ENV]: '1' });
  cluster.on('message', (_worker, msg: { type?: string; banner?: BannerInfo }) => {
    if (msg.type !== 'serve-here:listening' || msg.banner === undefined || printed) return;
    printed = true;
    const banner = { ...msg.banner, tty: process.stdout.isTTY === true };
    banner.apps = [...banner.apps, `${opts.workers} worker processes share the port`];
    printBanner(log, banner);
    if (opts.open) openBrowser(localUrl(banner.address), log);
  });
  cluster.on('exit', (worker, code) => {
    if (!stopping) {
      stopping = true;
      log.error(`serve-here: worker ${worker.process.pid ?? '?'} exited with code ${code}; stopping`);
      for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    }
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(code === 0 ? 0 : 1);
  });
  const stop = (): void => {
    if (stopping) process.exit(130);
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', stop);
}

async function startApps(opts: Options, root: string, log: Logger): Promise<AppRouter | undefined> {
  if (opts.apps.length === 0) return undefined;
  const { startAppHost } = await import('./app/start.js');
  return startAppHost(opts, root, log);
}

/** Stop on SIGINT/SIGTERM: finish in-flight responses (3 s at most), exit 0; a second signal exits at once. */
function handleSignals(server: ServeHere, log: Logger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.flush();
      process.exit(130);
    }
    stopping = true;
    log.info(log.colors.dim(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping (press Ctrl-C again to quit now)`));
    server.close(3000).then(
      () => {
        log.flush();
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', stop); // the terminal closed: stop as cleanly as for Ctrl-C
}

export async function main(argv: string[]): Promise<void> {
  let opts: Options;
  const log0 = createLogger();
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
  if (opts.workers > 1 && !isClusterWorker) {
    try {
      return await runPrimary(opts, log);
    } catch (error) {
      fail(error, log);
    }
  }
  try {
    const server = await run(opts, log);
    handleSignals(server, log);
  } catch (error) {
    fail(error, log);
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
