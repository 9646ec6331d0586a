import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSseParser, type SseEvent } from '../src/index.js';

function parse(chunks: string[]): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = createSseParser((event) => events.push(event));
  for (const chunk of chunks) parser.feed(chunk);
  return events;
}

describe('SSE parser', () => {
  const stream = ': keep-alive\n\nevent: ready\ndata: {"deniedTokens":[]}\n\nevent: key\ndata: {"hash":"ab"}\n\ndata: a\ndata: b\nid: 7\n\n';
  const expected = [
    { event: 'ready', data: '{"deniedTokens":[]}', id: undefined },
    { event: 'key', data: '{"hash":"ab"}', id: undefined },
    { event: 'message', data: 'a\nb', id: '7' },
  ];

  it('parses whole streams and every split into chunks, with LF, CRLF and CR line ends', () => {
    for (const ending of ['\n', '\r\n', '\r']) {
      const text = stream.replace(/\n/g, ending);
      expect(parse([text])).toEqual(expected);
      for (let i = 1; i < text.length; i++) expect(parse([text.slice(0, i), text.slice(i)])).toEqual(expected);
      expect(parse([...text])).toEqual(expected);
    }
  });

  it('drops events without data, keeps an incomplete event until its blank line, strips one leading space', () => {
    expect(parse(['event: key\n\n', 'data:  x\n'])).toEqual([]);
    expect(parse(['data:x\n', '\n', 'data'])).toEqual([{ event: 'message', data: 'x', id: undefined }]);
    expect(parse(['data:  x\n\n'])).toEqual([{ event: 'message', data: ' x', id: undefined }]);
  });

  it('bounds memory', () => {
    const parser = createSseParser(() => {}, { maxEventLength: 100 });
    expect(() => parser.feed('data: ' + 'x'.repeat(200))).toThrow(RangeError);
  });
});

describe('SDK module boundaries', () => {
  it('no source file imports node: modules, the server, or anything but jose', () => {
    const dir = new URL('../src/', import.meta.url);
    for (const file of readdirSync(dir)) {
      if (!file.endsWith('.ts')) continue;
      const source = readFileSync(new URL(file, dir), 'utf8');
      for (const match of source.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
        expect(match[1]!.startsWith('./') || match[1] === 'jose', `${file} imports ${match[1]}`).toBe(true);
      }
    }
  });
});

describe('sha256Hex', () => {
  it('the synchronous (node:crypto) and Web Crypto paths agree with node:crypto', async () => {
    const { createHash } = await import('node:crypto');
    const { sha256Hex, webCryptoSha256Hex } = await import('../src/sha256-hex.js');
    for (const text of ['', 'sk_live_abc', 'é✓']) {
      const expected = createHash('sha256').update(text).digest('hex');
      expect(sha256Hex(text)).toBe(expected);
      expect(await webCryptoSha256Hex(text)).toBe(expected);
    }
  });
});
