// The one gate every request and every upgrade passes before it is routed: the Host check,
// then access control (token or password when shared). Nothing here reads the file system or
// writes a response: it returns what to send instead when the request may not pass.
import type { IncomingMessage } from 'node:http';
import { checkHost, hostPolicyFor, isLoopbackAddress, type HostPolicy, type ParsedHost } from './host-check.js';
import { LruMap } from './static/lru.js';
import type { Access, AccessMode, createAccess } from './share/access.js';

/** What the gate lets through (the validated Host), or the answer to send instead. */
export type GateResult =
  | { ok: true; host: ParsedHost | undefined }
  /** `body` is a complete HTML page to send with `headers`; without it, a built-in page for `detail`. */
  | { ok: false; status: number; detail: string; headers?: Record<string, string>; body?: string };

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

  constructor(opts: GateOptions) {
    this.#opts = opts;
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
    const header = req.headers.host;
    let host = header === undefined ? undefined : this.#hosts.get(header);
    if (host === undefined) {
      host = checkHost(this.#policy, header);
      if (header !== undefined) this.#hosts.set(header, host); // bounded: arbitrary Host values cannot grow it
    }
    if (!host.ok) return { ok: false, status: host.status, detail: host.reason };
    const access = this.#access?.check(req);
    if (access === undefined || (access.ok && !('status' in access))) return { ok: true, host: host.host };
    if (access.ok) return { ok: false, status: access.status, detail: '', headers: access.headers, body: '' };
    return { ok: false, status: access.status, detail: '', headers: access.headers, body: access.body };
  }

  /** The log shows a URL without the key. */
  redact(url: string): string {
    return this.#access === undefined || this.#access.mode !== 'token' ? url : this.#access.redactUrl(url);
  }
}
