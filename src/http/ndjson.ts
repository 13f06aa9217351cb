/** One JSON document per line (application/x-ndjson), read from `items` as the client takes them: a large export never sits whole in memory. */
export function ndjsonStream(items: AsyncIterator<unknown>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    async pull(controller) {
      const next = await items.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(`${JSON.stringify(next.value)}\n`));
    },
    async cancel() {
      await items.return?.(undefined);
    },
  });
}
