// Responses written straight to a socket, where there is no ServerResponse: requests the parser
// refused (RFC 9110/9112 statuses) and refused upgrades. Same headers as every other answer.
import { http } from './node-http.js';
import type { Duplex } from 'node:stream';

const { STATUS_CODES } = http;

/** One complete `Connection: close` response with a short plain-text body. */
export function rawResponse(status: number, detail?: string): string {
  const body = `${detail ?? STATUS_CODES[status] ?? 'Error'}\n`;
  return rawAnswer(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }, body);
}

/** A complete `Connection: close` response with given headers and body (refused upgrades). */
export function rawAnswer(status: number, headers: Record<string, string>, body: string): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nDate: ${new Date().toUTCString()}\r\nConnection: close\r\n${lines}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** The status for an error Node's HTTP parser raised, and the text to send with it. */
export function statusForParseError(error: Error & { code?: string; rawPacket?: unknown }): { status: number; detail: string } {
  switch (error.code) {
    case 'HPE_INVALID_METHOD':
      // RFC 9110 §9.1: a well-formed request with a method the server does not implement is 501;
      // a line that is not a request line at all stays a 400.
      return isRequestLine(error.rawPacket) ? { status: 501, detail: 'This server does not implement that method.' } : { status: 400, detail: 'Malformed request.' };
    case 'HPE_INVALID_VERSION':
      // RFC 9110 §15.6.6: 505 says "that version is not mine", so only for a well-formed
      // HTTP/x.y; a malformed token (HTTP/9.9.9, HTTP/1.10) or a bare LF ending is a bad request.
      return isRequestLine(error.rawPacket, true) ? VERSION_NOT_SUPPORTED : { status: 400, detail: 'Malformed request.' };
    case 'HPE_HEADER_OVERFLOW':
      return isLongRequestLine(error.rawPacket)
        ? { status: 414, detail: 'The request target is too long.' }
        : { status: 431, detail: 'The request headers are too large.' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, detail: 'The request took too long to arrive.' };
    default:
      return { status: 400, detail: 'Malformed request.' };
  }
}

const REQUEST_LINE_LIMIT = 8 * 1024;
/** RFC 9112 §3: method (a token) SP request-target SP HTTP-version. */
const REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ [^\s]+ HTTP\/[0-9]\.[0-9]\r?\n/;
/** The same, ended by CRLF as RFC 9112 §2.2 requires. */
const STRICT_REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ [^\s]+ HTTP\/[0-9]\.[0-9]\r\n/;

/** The answer to a well-formed request of an HTTP version other than 1.x. */
export const VERSION_NOT_SUPPORTED = { status: 505, detail: 'Only HTTP/1.0 and HTTP/1.1 are supported.' };

function isRequestLine(raw: unknown, strict = false): boolean {
  return Buffer.isBuffer(raw) && (strict ? STRICT_REQUEST_LINE : REQUEST_LINE).test(raw.subarray(0, REQUEST_LINE_LIMIT).toString('latin1'));
}

/** True when the overflowing data starts with a request line that has not ended within the limit. */
function isLongRequestLine(raw: unknown): boolean {
  if (!Buffer.isBuffer(raw)) return false;
  if (!/^[A-Za-z]+ [^\r\n ]/.test(raw.subarray(0, 64).toString('latin1'))) return false;
  const eol = raw.indexOf(10);
  return eol === -1 ? raw.length > REQUEST_LINE_LIMIT : eol > REQUEST_LINE_LIMIT;
}

/** Refuse an upgrade request on its raw socket. */
export function refuseUpgrade(socket: Duplex, status: number, detail: string): void {
  if (socket.writable) socket.end(rawResponse(status, detail));
  else socket.destroy();
}
