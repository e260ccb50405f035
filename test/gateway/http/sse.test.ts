/**
 * The gateway's SSE parser and serializer (src/gateway/sse.ts) carry an event stream through
 * unchanged in meaning (WHATWG HTML §9.2): every field, comment lines (keep-alives), and — the
 * case that broke resumption — an event whose `data` is present but empty, which 2025-11-25
 * servers send first to hand out the stream's first resumption id.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serializeEvent, sseParser, sseSerializer, type SseEvent } from '../../../src/shared/sse.ts';

async function roundTrip(chunks: string[]): Promise<{ events: SseEvent[]; text: string }> {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
      controller.close();
    },
  });
  const [a, b] = source.pipeThrough(sseParser()).tee();
  const events: SseEvent[] = [];
  const reading = (async () => {
    for await (const event of a as unknown as AsyncIterable<SseEvent>) events.push(event);
  })();
  const text = await new Response(b.pipeThrough(sseSerializer())).text();
  await reading;
  return { events, text };
}

describe('SSE through the gateway', () => {
  it('a priming event (id, empty data) keeps its data line, so SSE clients dispatch it and learn the id', async () => {
    const { events, text } = await roundTrip(['id: abc\ndata: \n\n', 'event: message\nid: def\ndata: {"x":1}\n\n']);
    assert.equal(events[0]!.id, 'abc');
    assert.equal(events[0]!.data, '');
    assert.equal(text, 'id: abc\ndata: \n\nevent: message\nid: def\ndata: {"x":1}\n\n');
  });

  it('an event without a data line stays without one (it sets the id without dispatching anything)', async () => {
    const { text } = await roundTrip(['id: only\n\n', ': keep-alive\n\n']);
    assert.equal(text, 'id: only\n\n: keep-alive\n\n');
  });

  it('fields split across chunks, CRLF line ends and multi-line data survive', async () => {
    const { events } = await roundTrip(['id: 1\r', '\ndata: a\r\ndata: b\r\n', '\r\nretry: 5\ndata: c\n\n']);
    assert.deepEqual(
      events.map((e) => [e.id, e.data, e.retry]),
      [
        ['1', 'a\nb', undefined],
        [undefined, 'c', '5'],
      ],
    );
  });

  it('an event built by hand with an id and no data still gets a data line (a rewritten priming event)', () => {
    assert.equal(serializeEvent({ id: 'x.mac', data: '', comments: [] }), 'id: x.mac\ndata: \n\n');
  });
});
