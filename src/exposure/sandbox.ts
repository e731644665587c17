// Which answers an uploader could turn into script in this origin: decided by Content-Type.
//
// While uploads are on, a file in the folder may be a visitor's. Anything a browser might run
// (HTML in all its spellings, SVG, XML with XSLT, MathML, …) must not run in this origin, where
// it would read every file with the next visitor's cookie. Naming the dangerous types fails open
// (a new `text/html` extension slips through); naming the passive ones fails closed.

/** The passive types: shown or played, never run. Everything else gets `Content-Security-Policy: sandbox`. */
const PASSIVE = /^(?:image\/(?!svg)[a-z0-9.+-]+|audio\/[a-z0-9.+-]+|video\/[a-z0-9.+-]+|text\/plain|application\/(?:pdf|octet-stream|zip))$/;

/** True when an answer of this Content-Type must be sandboxed (while uploads are on). */
export function needsSandbox(contentType: string | undefined): boolean {
  if (contentType === undefined) return true;
  const type = contentType.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  // An XML flavour of a passive family (image/svg+xml, a hypothetical audio/x+xml) can carry script.
  return type.includes('xml') || !PASSIVE.test(type);
}

/** The header value that keeps such an answer from running anything in this origin. */
export const SANDBOX_POLICY = 'sandbox';
