/** One dispatched server-sent event. `event` defaults to "message", as in the HTML standard. */
export interface SseEvent {
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * An incremental parser for `text/event-stream` (HTML Living Standard, "Parsing an event stream"): feed it
 * decoded text in chunks of any size; it calls `onEvent` for every complete event and `onRetry` for a `retry:`
 * field. Lines end in CRLF, LF or CR (a CR at the end of one chunk and an LF at the start of the next are one
 * line end); comment lines (`: keep-alive`) are ignored; a blank line dispatches the event; events without data
 * are dropped. `maxEventLength` bounds the memory a misbehaving server can make it hold.
 */
export function createSseParser(
  onEvent: (event: SseEvent) => void,
  { onRetry, maxEventLength = 1 << 20 }: { onRetry?: (ms: number) => void; maxEventLength?: number } = {},
): { feed(text: string): void } {
  let buffer = '';
  let skipLeadingLf = false;
  let eventType = '';
  let data: string[] = [];
  let dataLength = 0;
  let lastId: string | undefined;

  const line = (text: string) => {
    if (text === '') {
      if (data.length > 0) onEvent({ event: eventType || 'message', data: data.join('\n'), id: lastId });
      eventType = '';
      data = [];
      dataLength = 0;
      return;
    }
    if (text.charCodeAt(0) === 58 /* : */) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.charCodeAt(0) === 32 /* space */) value = value.slice(1);
    switch (field) {
      case 'event':
        eventType = value;
        break;
      case 'data':
        dataLength += value.length + 1;
        if (dataLength > maxEventLength) throw new RangeError('server-sent event too large');
        data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) onRetry?.(Number(value));
        break;
      default:
        break;
    }
  };

  return {
    feed(text: string) {
      if (skipLeadingLf && text.charCodeAt(0) === 10) text = text.slice(1);
      skipLeadingLf = false;
      buffer += text;
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer.charCodeAt(i);
        if (c !== 10 && c !== 13) continue;
        line(buffer.slice(start, i));
        if (c === 13) {
          if (i + 1 === buffer.length) skipLeadingLf = true;
          else if (buffer.charCodeAt(i + 1) === 10) i++;
        }
        start = i + 1;
      }
      buffer = buffer.slice(start);
      if (buffer.length > maxEventLength) throw new RangeError('server-sent event line too large');
    },
  };
}
