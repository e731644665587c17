// A Hono app: `export default app` (the Hono instance has a fetch method).
import { Hono } from 'hono';

const app = new Hono();
app.get('/hello/:name', (c) => c.json({ hello: c.req.param('name') }));
app.post('/items', async (c) => {
  const item = await c.req.json();
  return c.json({ created: item }, 201);
});
export default app;
