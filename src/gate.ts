// The one gate every request and every upgrade passes before it is routed: the Host check,
// then access control (token or password when shared). Nothing here reads the file system or
// writes a response: it returns what to send instead when the request may not pass.
import type { IncomingMessage } from 'node:http';
import { checkHost, hostPolicyFor, isLoopbackAddress, type HostPolicy, type ParsedHost } from './host-check.js';
import { LruMap } from './static/lru.js';
import { proxyReport, proxyTrust, type ProxyTrust } from './proxy-trust.js';
import type { Access, AccessMode, createAccess } from './share/access.js';
import { faultAt } from './fault.js';

/** What the gate lets through (the validated Host), or the answer to send instead. */
export type GateResult =
  /**
   * `setCookie`: a session cookie for the answer (basic auth's first success). `proxied`: the
   * client and scheme a trusted proxy reported (--trust-proxy); `host` is then the one it reported.
   */
  | { ok: true; host: ParsedHost | undefined; setCookie?: string; proxied?: Proxied }
  /**
   * `body` is a complete HTML page to send with `headers`; without it, a built-in page for `detail`.
   * `delayMs`: hold the answer this long (a wrong password from a throttled address).
   */
  | { ok: false; status: number; detail: string; headers?: Record<string, string>; body?: string; delayMs?: number };

/** What --trust-proxy lets a proxy in front change about how a request is seen. */
export interface Proxied {
  clientAddress: string | undefined;
  scheme: 'http' | 'https' | undefined;
}

export interface AuthOptions {
  /** Default: a per-run token when bound beyond loopback, open on loopback. */
  mode?: AccessMode;
  user?: string;
  password?: string;
}

export interface GateOptions {
  /** The address the server is bound to (or will be): decides loopback vs shared. */
  bindAddress: string;
  allowedHosts: readonly string[] | undefined;
  auth: AuthOptions | undefined;
  secure: boolean;
  /** --trust-proxy: the proxies whose X-Forwarded-* or Forwarded are believed (see proxy-trust.ts). */
  trustProxy?: readonly string[] | undefined;
  /** The key and session value to use instead of this run's own (--workers: one set for all workers). */
  secrets?: { token: string; session: string } | undefined;
}

/** Whether access control can be in force: --auth/--no-auth given, or bound beyond loopback. */
export function accessNeeded(host: string, auth: unknown): boolean {
  return auth !== undefined || !isLoopbackAddress(host);
}

export class Gate {
  #policy: HostPolicy;
  #access: Access | undefined;
  #createAccess: typeof createAccess | undefined;
  /** Host decisions by header value: a handful of values recur, so each is parsed once. */
  #hosts = new LruMap<string, ReturnType<typeof checkHost>>(256);
  readonly #opts: GateOptions;
  readonly #trust: ProxyTrust | undefined;

  constructor(opts: GateOptions) {
    this.#opts = opts;
    this.#trust = opts.trustProxy === undefined ? undefined : proxyTrust(opts.trustProxy);
    this.#policy = hostPolicyFor(opts.bindAddress, opts.allowedHosts);
  }

  /**
   * Load access control before listening, when it may be needed: with --auth/--no-auth, or when
   * bound beyond loopback. Open access on loopback (the default) needs none, so the token,
   * password and rate-limit modules are not loaded then. Before listening, so `bound()` stays
   * synchronous: no request can be answered between binding and the key being in force.
   */
  async prepare(host: string): Promise<void> {
    if (!accessNeeded(host, this.#opts.auth)) return;
    this.#createAccess = (await import('./share/access.js')).createAccess;
  }

  /** Called once bound: the Host policy follows the real address; the access key is made for the real port. */
  bound(address: string, port: number): void {
    this.#policy = hostPolicyFor(address, this.#opts.allowedHosts);
    this.#hosts.clear();
    const mode = this.#opts.auth?.mode ?? (this.#policy.loopback ? 'open' : 'token');
    if (mode === 'open' && this.#opts.auth === undefined) {
      this.#access = undefined;
      return;
    }
    if (this.#createAccess === undefined) throw new Error('Access control is needed but was not prepared before listening');
    this.#access = this.#createAccess({
      mode,
      port,
      secure: this.#opts.secure,
      ...(this.#opts.secrets === undefined ? {} : { token: this.#opts.secrets.token, session: this.#opts.secrets.session }),
      ...(this.#opts.auth?.user === undefined ? {} : { user: this.#opts.auth.user }),
      ...(this.#opts.auth?.password === undefined ? {} : { password: this.#opts.auth.password }),
    });
  }

  /** True once bound beyond loopback. */
  get shared(): boolean {
    return !this.#policy.loopback;
  }

  /** The access control in force (after listen); none when open on loopback by default. */
  get access(): Access | undefined {
    return this.#access;
  }

  /** The same check for `request` and `upgrade`: Host first (a rebinding page learns nothing), then the key. */
  check(req: IncomingMessage): GateResult {
    faultAt('gate', req);
    let host = this.#checkHost(req.headers.host);
    if (!host.ok) return { ok: false, status: host.status, detail: host.reason };
    // A trusted proxy's report of the Host the client used passes the same check as a Host header.
    const report = this.#trust === undefined ? undefined : proxyReport(req, this.#trust);
    if (report?.host !== undefined) host = this.#checkHost(report.host);
    if (!host.ok) return { ok: false, status: host.status, detail: `The proxy in front reports: ${host.reason}` };
    const passed: GateResult = { ok: true, host: host.host };
    if (report !== undefined) passed.proxied = { clientAddress: report.clientAddress, scheme: report.scheme };
    const access = this.#access;
    if (access === undefined) return passed;
    const result = access.check(req, report?.clientAddress);
    if (result.ok && !('status' in result)) {
      // Past the gate, nothing (an app least of all) sees the key, the cookie or the password.
      access.strip(req);
      if (result.setCookie !== undefined) passed.setCookie = result.setCookie;
      return passed;
    }
    if (result.ok) return { ok: false, status: result.status, detail: '', headers: result.headers, body: '' };
    const refused = { ok: false, status: result.status, detail: '', headers: result.headers, body: result.body } as const;
    return result.delayMs === undefined ? refused : { ...refused, delayMs: result.delayMs };
  }

  #checkHost(header: string | undefined): ReturnType<typeof checkHost> {
    let host = header === undefined ? undefined : this.#hosts.get(header);
    if (host === undefined) {
      host = checkHost(this.#policy, header);
      if (header !== undefined) this.#hosts.set(header, host); // bounded: arbitrary Host values cannot grow it
    }
    return host;
  }

  /** The log shows a URL without the key. */
  redact(url: string): string {
    return this.#access === undefined || this.#access.mode !== 'token' ? url : this.#access.redactUrl(url);
  }
}
