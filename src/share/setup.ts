// The CLI's side of sharing: turn the flags into the server's auth and TLS options, and the
// banner's URLs (with the key), QR code and notes. The server itself never reads flags.
import kleur from 'kleur';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../errors.js';
import type { AuthOptions } from '../gate.js';
import type { Options } from '../options.js';
import type { Access } from './access.js';
import { parseAuthSpec } from './basic-auth.js';
import type { TlsMaterial } from './tls.js';

/** --auth / --no-auth → the gate's options (undefined: the default, a key when shared). */
export function authFor(opts: Options): AuthOptions | undefined {
  if (opts.auth === false) return { mode: 'open' };
  if (opts.auth === undefined) return undefined;
  try {
    return { mode: 'basic', ...parseAuthSpec(opts.auth) };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), 'Give --auth user:password, or --auth user with the password in SERVE_HERE_PASSWORD.');
  }
}

/** --https / --cert / --key → key and certificate (made and cached once per machine for --https). */
export async function tlsFor(opts: Options): Promise<TlsMaterial | undefined> {
  if (!opts.https) return undefined;
  // Certificates (node:crypto's X509, the DER encoder) are loaded only for --https.
  const { defaultNames, loadOrCreateCertificate, loadOwnCertificate } = await import('./tls.js');
  if (opts.cert !== undefined && opts.key !== undefined) return loadOwnCertificate(opts.cert, opts.key);
  return loadOrCreateCertificate(defaultNames());
}

export interface ShareBanner {
  local: string;
  network: string[];
  qr: string[] | undefined;
  notes: string[];
  warnings: string[];
}

/** The banner's URLs (a key in them when one is needed), the QR code of the first network URL, and what to say about access. */
export async function shareBanner(address: AddressInfo, network: readonly string[], local: string, access: Access | undefined, tls: TlsMaterial | undefined): Promise<ShareBanner> {
  const withKey = (u: string): string => (access?.mode === 'token' ? access.urlWithToken(u) : u);
  const scheme = (u: string): string => (tls === undefined ? u : u.replace(/^http:/, 'https:'));
  const urls = network.map((u) => withKey(scheme(u)));
  const notes: string[] = [];
  const warnings: string[] = [];
  const shared = address.address === '::' || address.address === '0.0.0.0' || network.length > 0;
  if (access?.mode === 'token' && shared) notes.push('Open a link above or scan the code: it carries this run\'s key (a new one each start).');
  if (access?.mode === 'basic') notes.push('Visitors are asked for the user name and password you gave with --auth.');
  if (access?.mode === 'open' && shared) warnings.push('--no-auth: anyone on your network can read this folder, no key needed');
  if (tls !== undefined) notes.push(`HTTPS certificate SHA-256 ${tls.fingerprint}`);
  if (tls?.warning !== undefined) warnings.push(tls.warning);
  const first = urls[0];
  return {
    local: withKey(scheme(local)),
    network: urls,
    // The QR encoder is loaded only when there is a network URL to show.
    qr: first === undefined ? undefined : (await import('./qr.js')).renderQr(first, { color: kleur.enabled }),
    notes,
    warnings,
  };
}
