// node:http as its module object, not through `import … from 'node:http'`: to build an ESM
// namespace, Node reads every export, and on Node 22+ three of them (WebSocket, CloseEvent,
// MessageEvent) are lazy getters that load undici, about 50 ms of start-up on Node 24, in the
// server and in every app process. Types still come from `import type`.
import type * as Http from 'node:http';

export const http: typeof Http = process.getBuiltinModule('node:http');
