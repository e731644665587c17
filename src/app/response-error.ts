// What an app answers is checked before it reaches the wire: a response node would refuse (or a
// body that fails) becomes an AppResponseError, which the host answers with 502, never a crash.
import { http } from '../node-http.js';

const { validateHeaderName, validateHeaderValue } = http;

/** The app's answer cannot be sent as HTTP (bad status, header or body); the caller answers 502. */
export class AppResponseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppResponseError';
  }
}

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A final status node can send and a client reads as the answer (1xx would be taken as interim). */
export function checkStatus(status: number, who: string): number {
  if (!Number.isInteger(status) || status < 200 || status > 999) throw new AppResponseError(`${who} answered with status ${String(status)}; expected 200-999`);
  return status;
}

/** Throws AppResponseError for a header node:http would refuse (non-token name, CR/LF or other control characters). */
export function checkHeader(name: string, value: string, who: string): void {
  try {
    validateHeaderName(name);
    validateHeaderValue(name, value);
  } catch (error) {
    throw new AppResponseError(`${who} set an invalid header ${JSON.stringify(name)}: ${reason(error)}`, { cause: error });
  }
}

const NODE_RESPONSE_CODES = new Set(['ERR_HTTP_INVALID_STATUS_CODE', 'ERR_INVALID_HTTP_TOKEN', 'ERR_INVALID_CHAR', 'ERR_HTTP_INVALID_HEADER_VALUE', 'ERR_HTTP_CONTENT_LENGTH_MISMATCH']);

/** Node's own refusals of a response (thrown inside a node-style app) as AppResponseError; other errors unchanged. */
export function asResponseError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NODE_RESPONSE_CODES.has(code)) return new AppResponseError(`The app's response was refused: ${reason(error)}`, { cause: error });
  return error;
}
