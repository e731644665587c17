// A streaming response: three lines, 150 ms apart, each sent as soon as it is written.
const enc = new TextEncoder();
export default {
  fetch() {
    let i = 0;
    const body = new ReadableStream({
      async pull(controller) {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, 150));
        i += 1;
        controller.enqueue(enc.encode(`chunk ${i}\n`));
        if (i === 3) controller.close();
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } });
  },
};
