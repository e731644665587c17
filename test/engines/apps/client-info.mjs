// An app that reads the client address. Only `request` is common to every engine; the second
// argument differs (Deno and serve-here: info.remoteAddr; Bun: the Server, server.requestIP();
// workerd: env bindings, the address in a header; srvx: request.ip), so this app tries each.
export default {
  fetch(request, info) {
    const url = new URL(request.url);
    let address = null;
    if (info && typeof info === 'object' && info.remoteAddr && typeof info.remoteAddr.hostname === 'string') {
      address = info.remoteAddr.hostname; // Deno, serve-here
    } else if (info && typeof info.requestIP === 'function') {
      address = info.requestIP(request)?.address ?? null; // Bun
    } else if (typeof request.ip === 'string') {
      address = request.ip; // srvx
    } else if (request.headers.get('cf-connecting-ip')) {
      address = request.headers.get('cf-connecting-ip'); // Cloudflare's edge (not local workerd)
    }
    return Response.json({
      method: request.method,
      path: url.pathname,
      search: url.search,
      host: request.headers.get('host'),
      address,
      second: typeof info,
      remoteAddr: info != null && typeof info === 'object' && 'remoteAddr' in info,
    });
  },
};
