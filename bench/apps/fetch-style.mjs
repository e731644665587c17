// hello world as a fetch handler.
export default {
  fetch() {
    return new Response('hello world');
  },
};
