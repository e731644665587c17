// The commander program: flags in four help groups, and the help text's examples, environment
// variables and exit codes. Parsing only; cli.ts runs what comes out.
import { Command, Option } from 'commander';
import { DEFAULT_PORT } from './options.js';

/** Help group headings, in the order --help shows them (README's option tables follow it). */
export const HELP_GROUPS = ['Serving:', 'Sharing:', 'Apps:', 'Output:', 'Other:'] as const;

const FOOTER = `
Examples:
  serve-here                         this folder on http://127.0.0.1:${DEFAULT_PORT}/
  serve-here ./public -p 3000        another folder, another port
  serve-here --share                 share with the room: key + QR code
  serve-here --share --upload        …and let them send files back
  serve-here --app app.ts            a request handler at /, reloaded on save
  serve-here dist --app /api=api.ts  static files, plus an app at /api
  serve-here export nginx dist --app /api=api.ts
                                     …and its nginx config (also: systemd,
                                     deno, workers)

Environment:
  NO_COLOR, FORCE_COLOR        colours off / on (default: on for a terminal)
  BROWSER                      the program --open runs
  SERVE_HERE_APP_TIMEOUT_MS    no response from an app: 504 (default: 30000)
  SERVE_HERE_DRAIN_TIMEOUT_MS  a replaced app's time to finish (default: 10000)
  SERVE_HERE_BLOCKED_MS        a blocked app is replaced after (default: 3000)
  SERVE_HERE_PASSWORD          the password for --auth USER (kept out of ps)
  XDG_CONFIG_HOME              where --https keeps its certificate (~/.config)

Exit codes:
  0  --help, --version, or stopped by Ctrl-C, SIGTERM or SIGHUP
  1  cannot serve: folder missing, port busy, app or env file unreadable
  2  usage error: unknown flag or bad value (a hint says what to type)
`;

/** Build the commander program (exported so tests can compare --help with the README). */
export function buildProgram(version: string): Command {
  const program = new Command('serve-here');
  program
    .description('Serve a folder over HTTP, and mount app modules that reload on save.')
    .argument('[dir]', 'folder to serve (default: the current folder)')
    .optionsGroup('Serving:')
    .option('-d, --directory <dir>', 'folder to serve, as in python -m http.server')
    .option('-p, --port <port>', `port to listen on; 0 picks any free port (default: ${DEFAULT_PORT}, or the next free one)`)
    .option('--spa', 'serve index.html for unknown extensionless paths that accept HTML')
    .option('--dotfiles', 'serve and list dotfiles (.git stays hidden)')
    .option('--no-listing', 'do not list folders without index.html')
    .option('--live', 'reload open pages on every save (CSS swapped in place; app pages once the new code answers)')
    .option('--poll', 'with --live: poll for changes (network mounts, some containers)')
    .optionsGroup('Sharing:')
    .option('--host [addr]', 'share on the network: bind all interfaces, or the address given (default: loopback only)')
    .option('-b, --bind <addr>', 'bind this address, as in python -m http.server')
    .option('--allowed-hosts <hosts>', 'comma-separated Host names to answer besides localhost (".example.com" allows subdomains)')
    .option('--trust-proxy [addrs]', 'believe X-Forwarded-* or Forwarded from the proxy in front (default: loopback): apps see the real client, scheme and host')
    .option('--share', 'share with the room: all interfaces, a key in the URL, a QR code')
    .option('--auth <user[:password]>', 'ask for this user and password instead of a key (password also from SERVE_HERE_PASSWORD)')
    .option('--no-auth', 'shared without any key or password (a warning says so)')
    .option('--upload', 'let visitors upload files (PUT, or the listing\'s drop zone); never overwrites')
    .option('--max-upload <size>', 'largest upload accepted, e.g. 500M or 2G (default: 1G)')
    .option('--https', 'serve HTTPS with a self-signed certificate kept in your config folder')
    .option('--cert <file>', 'serve HTTPS with this certificate (PEM; with --key), e.g. from mkcert')
    .option('--key <file>', 'the private key for --cert (PEM)')
    .option('--cors', 'send Access-Control-Allow-Origin: * (never with credentials)')
    .optionsGroup('Apps:')
    // No default value: commander would print "(default: [])".
    .option('--app <[prefix=]file>', 'mount a request handler module (repeatable): app.ts at /, /api=api.ts at /api', collect)
    .addOption(new Option('--app-style <style>', 'calling convention instead of detecting it').choices(['fetch', 'node', 'wsgi']))
    .option('--no-strip-prefix', 'apps at a prefix see the full path (Hono basePath) instead of the path below the prefix')
    .option('--env-file <file>', 'load environment variables for the apps from this file')
    .option('--no-watch', 'run apps in this process, without reloading on change')
    .option('--inspect [[host:]port]', 'open the Node inspector in the app process, the same address across reloads (default: 127.0.0.1:9229)')
    .option('--workers <n>', 'prefork n processes sharing the port (with --app --no-watch)')
    .optionsGroup('Output:')
    .option('-q, --quiet', 'no request lines (errors are still shown)')
    .addOption(new Option('--log <format>', 'request log format').choices(['dev', 'combined', 'json']).default('dev'))
    .option('--open', 'open the browser at the served URL ($BROWSER if set)')
    .optionsGroup('Other:')
    .version(version, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .addHelpText('after', FOOTER)
    .showSuggestionAfterError(true)
    .configureOutput({
      // One line in our own voice: "serve-here: unknown option '--nope' (did you mean --open?)".
      outputError: (text, write) =>
        write(`serve-here: ${text.replace(/^error: /, '').replace(/\s*\n\((Did you mean [^)]*)\)/, (_m, s: string) => ` (${s.charAt(0).toLowerCase()}${s.slice(1)})`).trim()}\n`),
    })
    .exitOverride();
  return program;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
