// start_response's arguments, checked at the call as PEP 3333 asks of a server (the app can catch
// the error where it made it): a status like "200 OK", [name, value] string pairs that node can
// send, no hop-by-hop header; and what excInfo means in JavaScript.
import { AppResponseError, checkHeader, checkStatus } from './response-error.js';

/** wsgiref.util.is_hop_by_hop's list: the server's business, never the app's. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailers', 'transfer-encoding', 'upgrade']);

export interface CheckedStart {
  code: number;
  reason: string;
  /** A copy: the app changing its array afterwards changes nothing that was checked. */
  headers: Array<[string, string]>;
}

/** Throws AppResponseError (the host answers 502 if the app lets it through) for what cannot be sent. */
export function checkStart(status: unknown, headers: unknown): CheckedStart {
  if (typeof status !== 'string') throw new AppResponseError(`WSGI status must be a string like "200 OK", not ${status === null ? 'null' : typeof status}`);
  // Three digits, one space, a reason of what a status line may carry (the reason may be empty).
  const m = /^(\d{3}) ([\t\x20-\x7e\x80-\xff]*)$/.exec(status);
  if (m === null) throw new AppResponseError(`WSGI status ${JSON.stringify(status)} is not like "200 OK"`);
  const code = checkStatus(Number(m[1]), 'The WSGI app');
  if (!Array.isArray(headers)) throw new AppResponseError('WSGI headers must be an array of [name, value] pairs');
  const copy: Array<[string, string]> = [];
  for (const pair of headers as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      throw new AppResponseError(`WSGI headers must be [name, value] pairs of strings, not ${JSON.stringify(pair) ?? typeof pair}`);
    }
    const [name, value] = pair as [string, string];
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) throw new AppResponseError(`The WSGI app set the hop-by-hop header "${name}"; the server sets those`);
    if (lower === 'status') throw new AppResponseError('The WSGI app set a "Status" header (CGI\'s); the status is startResponse()\'s first argument');
    checkHeader(name, value, 'The WSGI app');
    copy.push([name, value]);
  }
  return { code, reason: m[2] as string, headers: copy };
}

/**
 * What excInfo carries: an Error, or the value of a Python-shaped [type, value, traceback]
 * triple (what a port of `sys.exc_info()` passes). Undefined means "not given": undefined, null
 * (Python's None) and a triple without a value.
 */
export function excInfoError(excInfo: unknown): { error: unknown } | undefined {
  if (excInfo === undefined || excInfo === null) return undefined;
  if (excInfo instanceof Error) return { error: excInfo };
  if (Array.isArray(excInfo) && excInfo.length === 3) return excInfo[1] === undefined || excInfo[1] === null ? undefined : { error: excInfo[1] };
  throw new TypeError('startResponse(status, headers, excInfo): excInfo must be an Error, a [type, value, traceback] triple, or null');
}
