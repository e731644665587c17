// The one gate every request and every upgrade passes before it is routed: the Host check now,
// the sharing issue's access check next. Nothing here reads the file system or writes a response.
import type { IncomingMessage } from 'node:http';
import { checkHost, hostPolicyFor, type HostPolicy, type ParsedHost } from './host-check.js';

/** What the gate lets through (the validated Host), or the refusal to send instead. */
export type GateResult =
  | { ok: true; host: ParsedHost | undefined }
  | { ok: false; status: number; detail: string; headers?: Record<string, string> };

export interface GateOptions {
  /** The address the server is bound to (or will be): decides loopback vs shared. */
  bindAddress: string;
  allowedHosts: readonly string[] | undefined;
}

export class Gate {
  #policy: HostPolicy;
  #allowed: readonly string[] | undefined;

  constructor(opts: GateOptions) {
    this.#allowed = opts.allowedHosts;
    this.#policy = hostPolicyFor(opts.bindAddress, opts.allowedHosts);
  }

  /** Called once the server is bound: the policy follows the real address, not the asked one. */
  bound(address: string): void {
    this.#policy = hostPolicyFor(address, this.#allowed);
  }

  /** True once bound beyond loopback. */
  get shared(): boolean {
    return !this.#policy.loopback;
  }

  /** The same check for `request` and `upgrade`. */
  check(req: IncomingMessage): GateResult {
    const host = checkHost(this.#policy, req.headers.host);
    if (!host.ok) return { ok: false, status: host.status, detail: host.reason };
    return { ok: true, host: host.host };
  }
}
