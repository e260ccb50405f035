/**
 * A long answer produced as it is sent (an audit export): text chunks from an async iterator as a
 * Response body that is pulled, not pushed. With no queue of its own (highWaterMark 0) the next
 * chunk is made only when the one before has been handed to the connection, and the node adapter
 * waits for the socket's `drain` before asking again — so memory stays flat however long the answer,
 * and a client that stops reading stops the producer. A client that goes away ends the iterator.
 */
import type { Logger } from 'pino';

export function streamedBody(chunks: AsyncGenerator<string, void, undefined>, log: Logger, what: string): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await chunks.next();
          if (done) controller.close();
          else controller.enqueue(encoder.encode(value));
        } catch (err) {
          // The status line is long gone: all that is left is to end the body short, and say why here.
          log.error({ err }, `${what} failed while streaming`);
          controller.error(err);
        }
      },
      async cancel() {
        await chunks.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}
