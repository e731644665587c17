// The platform's fetch classes, saved when this module is evaluated: import it first, before
// anything that could replace a global, to compare with what apps see later.
export const PlatformResponse: typeof Response = globalThis.Response;
export const PlatformRequest: typeof Request = globalThis.Request;
