import { describe, expect, it } from 'vitest';
import { createReplayGuard, generateWebhookSecret, signWebhook, verifyWebhook, type ReplayGuard } from '../src/webhooks/index.js';

const secret = generateWebhookSecret();
const at = 1_800_000_000;
const body = '{"id":"evt_1","type":"key.revoked","data":{"keyId":"key_1"}}';

/** A clock the test moves by hand (milliseconds). */
function manualClock(seconds = at) {
  let ms = seconds * 1000;
  return { now: () => ms, advance: (s: number) => (ms += s * 1000) };
}

/** A replay guard around a memory guard that records every id it is asked about. */
function spyGuard(inner: ReplayGuard = createReplayGuard()) {
  const asked: string[] = [];
  return { asked, seen: (id: string) => (asked.push(id), inner.seen(id)) };
}

const sign = (scheme: 'stripe' | 'standard', timestamp: number, payload = body, id = 'msg_1') =>
  signWebhook({ scheme, secret, id: scheme === 'standard' ? id : undefined, timestamp, payload });

describe('timestamp tolerance, in the past and in the future', () => {
  for (const scheme of ['stripe', 'standard'] as const) {
    it(`${scheme}: accepts up to the tolerance either way and refuses one second beyond`, () => {
      const verify = (offset: number, toleranceSeconds?: number) => {
        try {
          verifyWebhook({ payload: body, headers: sign(scheme, at + offset), secret, now: () => at * 1000, toleranceSeconds });
          return 'accepted';
        } catch (error) {
          return (error as { code: string }).code;
        }
      };
      expect([verify(-300), verify(300), verify(0)]).toEqual(['accepted', 'accepted', 'accepted']);
      expect([verify(-301), verify(301)]).toEqual(['timestamp_outside_tolerance', 'timestamp_outside_tolerance']);
      expect([verify(-86_400), verify(86_400)]).toEqual(['timestamp_outside_tolerance', 'timestamp_outside_tolerance']);
      expect([verify(-30, 30), verify(31, 30), verify(1, 0), verify(0, 0)]).toEqual(['accepted', 'timestamp_outside_tolerance', 'timestamp_outside_tolerance', 'accepted']);
    });

    it(`${scheme}: a delivery accepted now is refused once the window has passed`, () => {
      const headers = sign(scheme, at);
      const clock = manualClock(at);
      expect(verifyWebhook({ payload: body, headers, secret, now: clock.now })).toBeTruthy();
      clock.advance(301);
      expect(() => verifyWebhook({ payload: body, headers, secret, now: clock.now })).toThrow(expect.objectContaining({ code: 'timestamp_outside_tolerance' }));
    });
  }
});

describe('replay guard', () => {
  for (const scheme of ['stripe', 'standard'] as const) {
    it(`${scheme}: is asked only after the signature verified and the payload parsed`, async () => {
      const guard = spyGuard();
      const now = () => at * 1000;
      const good = sign(scheme, at);
      const attempts = [
        { payload: `${body} `, headers: good }, // tampered body
        { payload: body, headers: sign(scheme, at - 3600) }, // stale
        { payload: body, headers: { ...good, 'gatehouse-signature': 't=1,v1=', 'webhook-signature': 'v1,' } }, // malformed
        { payload: body, headers: signWebhook({ scheme, secret: generateWebhookSecret(), id: 'msg_forged', timestamp: at, payload: body }) },
        { payload: 'not json', headers: sign(scheme, at, 'not json', 'msg_not_json') }, // signed, but does not parse
      ];
      for (const attempt of attempts) {
        await expect(verifyWebhook({ ...attempt, secret, scheme, now, replayGuard: guard })).rejects.toThrow();
      }
      expect(guard.asked).toEqual([]);

      await expect(verifyWebhook({ payload: body, headers: good, secret, now, replayGuard: guard })).resolves.toMatchObject({ id: 'evt_1' });
      await expect(verifyWebhook({ payload: body, headers: good, secret, now, replayGuard: guard })).rejects.toMatchObject({ code: 'replayed' });
      expect(guard.asked).toEqual(scheme === 'standard' ? ['msg_1', 'msg_1'] : ['evt_1', 'evt_1']);
    });
  }

  it('standard: a retry keeps its webhook-id, so a fresh timestamp and signature are still a replay', async () => {
    const guard = createReplayGuard({ now: () => at * 1000 });
    const now = () => at * 1000;
    await verifyWebhook({ payload: body, headers: sign('standard', at, body, 'msg_retry'), secret, now, replayGuard: guard });
    await expect(verifyWebhook({ payload: body, headers: sign('standard', at + 60, body, 'msg_retry'), secret, now, replayGuard: guard })).rejects.toMatchObject({
      code: 'replayed',
    });
  });

  it("stripe: the event's id identifies the delivery; without one, the timestamp and the HMAC (not the header's spelling)", async () => {
    const guard = spyGuard();
    const now = () => at * 1000;
    await verifyWebhook({ payload: body, headers: sign('stripe', at), secret, now, replayGuard: guard });
    await expect(verifyWebhook({ payload: body, headers: sign('stripe', at + 5), secret, now, replayGuard: guard })).rejects.toMatchObject({ code: 'replayed' });

    const anonymous = '{"type":"ping"}';
    const header = sign('stripe', at, anonymous)['Gatehouse-Signature']!;
    await verifyWebhook({ payload: anonymous, headers: { 'gatehouse-signature': header }, secret, now, replayGuard: guard });
    // The same signature re-spelled (upper-case hex, an extra unknown version) is the same delivery.
    const respelled = `${header.replace(/v1=([0-9a-f]+)/, (_m, hex: string) => `v1=${hex.toUpperCase()}`)},v0=00`;
    await expect(verifyWebhook({ payload: anonymous, headers: { 'gatehouse-signature': respelled }, secret, now, replayGuard: guard })).rejects.toMatchObject({
      code: 'replayed',
    });
    expect(guard.asked.slice(2)).toEqual([`${at}.${header.slice(header.indexOf('v1=') + 3)}`, `${at}.${header.slice(header.indexOf('v1=') + 3)}`]);
  });
});

describe('createReplayGuard (in memory, bounded)', () => {
  it('remembers an id for ttlSeconds (default twice the tolerance), then lets it through again', () => {
    const clock = manualClock();
    const guard = createReplayGuard({ now: clock.now });
    expect(guard.seen('a')).toBe(false);
    expect(guard.seen('a')).toBe(true);
    clock.advance(599);
    expect(guard.seen('a')).toBe(true);
    expect(guard.seen('b')).toBe(false);
    clock.advance(1);
    expect(guard.seen('a')).toBe(false); // expired (and recorded afresh)
    expect(guard.size).toBe(2);
    clock.advance(600);
    expect(guard.seen('c')).toBe(false);
    expect(guard.size).toBe(1); // a and b were dropped when they expired
  });

  it('keeps at most maxEntries ids, dropping the oldest first', () => {
    const guard = createReplayGuard({ maxEntries: 3, now: () => 0 });
    for (const id of ['a', 'b', 'c', 'd']) expect(guard.seen(id)).toBe(false);
    expect(guard.size).toBe(3);
    expect([guard.seen('b'), guard.seen('c'), guard.seen('d')]).toEqual([true, true, true]);
    expect(guard.seen('a')).toBe(false);
  });

  it('forget lets a delivery through again (its processing failed)', () => {
    const guard = createReplayGuard();
    guard.seen('x');
    guard.forget('x');
    expect(guard.seen('x')).toBe(false);
  });

  it('refuses bad options', () => {
    for (const options of [{ ttlSeconds: 0 }, { ttlSeconds: Number.POSITIVE_INFINITY }, { maxEntries: 0 }, { maxEntries: 1.5 }, { now: 'x' }]) {
      expect(() => createReplayGuard(options as never)).toThrow(TypeError);
    }
  });
});
