// The one gate every request and every upgrade passes before it is routed: the Host check,
// then access control (token or password when shared). Nothing here reads the file system or
// writes a response: it returns what to send instead when the request may not pass.
import type { IncomingMessage } from 'node:http';
import { checkHost, hostPolicyFor, type HostPolicy, type ParsedHost } from './host-check.js';
import { LruMap } from './static/lru.js';
import { createAccess, type Access, type AccessMode } from './share/access.js';

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
}

export class Gate {
  #policy: HostPolicy;
  #access: Access | undefined;
  /** Host decisions by header value: a handful of values recur, so each is parsed once. */
  #hosts = new LruMap<string, ReturnType<typeof checkHost>>(256);
  readonly #opts: GateOptions;

  constructor(opts: GateOptions) {
    this.#opts = opts;
    this.#policy = hostPolicyFor(opts.bindAddress, opts.allowedHosts);
  }

  /** Called once bound: the Host policy follows the real address; the access key is made for the real port. */
  bound(address: string, port: number): void {
    this.#policy = hostPolicyFor(address, this.#opts.allowedHosts);
    this.#hosts.clear();
    const mode = this.#opts.auth?.mode ?? (this.#policy.loopback ? 'open' : 'token');
    this.#access = createAccess({
      mode,
      port,
      secure: this.#opts.secure,
      ...(this.#opts.auth?.user === undefined ? {} : { user: this.#opts.auth.user }),
      ...(this.#opts.auth?.password === undefined ? {} : { password: this.#opts.auth.password }),
    });
  }

  /** True once bound beyond loopback. */
  get shared(): boolean {
    return !this.#policy.loopback;
  }

  /** The access control in force (after listen). */
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
