// srvx on Node: serve() with the app's own fetch, on loopback and a free port. Prints the URL.
import { serve } from 'srvx';
import { pathToFileURL } from 'node:url';

const app = (await import(pathToFileURL(process.argv[2]).href)).default;
const server = serve({ hostname: '127.0.0.1', port: 0, silent: true, fetch: (request) => app.fetch(request) });
await server.ready();
console.log(`listening on ${server.url}`);
