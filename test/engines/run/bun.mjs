// Bun: Bun.serve() with the app's own fetch, on loopback and a free port (what `bun app.mjs`
// does for a default export with fetch, minus its 0.0.0.0:3000 default). Prints the URL.
const mod = await import(Bun.pathToFileURL(process.argv[2]).href);
const app = mod.default;
const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (request, srv) => app.fetch(request, srv) });
console.log(`listening on http://127.0.0.1:${server.port}/`);
