// A form post (urlencoded or multipart): the fields back as JSON, repeated names as arrays.
export default {
  async fetch(request) {
    if (request.method !== 'POST') {
      return new Response('<form method="post"><input name="name"><button>Send</button></form>', { headers: { 'content-type': 'text/html; charset=utf-8' } });
    }
    const form = await request.formData();
    const fields = {};
    for (const name of new Set(form.keys())) {
      const values = form.getAll(name).map((v) => (typeof v === 'string' ? v : `file:${v.name}:${v.size}`));
      fields[name] = values.length === 1 ? values[0] : values;
    }
    return Response.json(fields);
  },
};
