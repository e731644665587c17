// A JSON API with a request body: POST /echo?q=… answers what it received.
export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (request.method !== 'POST') {
      return Response.json({ error: 'POST a JSON body' }, { status: 405, headers: { allow: 'POST' } });
    }
    let body;
    try {
      body = await request.json();
    } catch {
      return Response.json({ error: 'not JSON' }, { status: 400 });
    }
    return Response.json({ path: url.pathname, q: url.searchParams.get('q'), received: body });
  },
};
