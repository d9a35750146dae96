// Tests the subunit v2 decoder against a stream written by Debian's python3-subunit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collectOutcomes, parseSubunitV2, SubunitDecoder } from './subunit.ts';

// `python3 -m subunit.run discover` (the command stestr gives Tempest's workers) over a module
// with a passing, a failing and a skipped test, a class whose setUpClass raises, a class whose
// setUpClass skips and a class whose tearDownClass raises; re-encoded with a worker-0 tag.
const SAMPLE_SUBUNIT = Buffer.from(
  [
    'symBNiNwa2cudGVzdF9zYW1wbGUuQmFkVGVhcmRvd24udGVzdF9vawEId29ya2VyLTCfPoT3symBOSZwa2cudGVzdF9zYW1wbGUu',
    'QnJva2VuU2V0dXAudGVzdF9uZXZlcgEId29ya2VyLTDZ9ILBsymBMR5wa2cudGVzdF9zYW1wbGUuR29vZC50ZXN0X2ZhaWwBCHdv',
    'cmtlci0wQ5JR37MpgTEecGtnLnRlc3Rfc2FtcGxlLkdvb2QudGVzdF9wYXNzAQh3b3JrZXItMAbDE5WzKYExHnBrZy50ZXN0X3Nh',
    'bXBsZS5Hb29kLnRlc3Rfc2tpcAEId29ya2VyLTA/MDP0symBPyxwa2cudGVzdF9zYW1wbGUuU2tpcHBlZENsYXNzLnRlc3RfYWxz',
    'b19uZXZlcgEId29ya2VyLTB0VIp+syuCPmsBO07JpmnII3BrZy50ZXN0X3NhbXBsZS5CYWRUZWFyZG93bi50ZXN0X29rAQh3b3Jr',
    'ZXItMLN8sCmzK4M+awE7TsmnsegjcGtnLnRlc3Rfc2FtcGxlLkJhZFRlYXJkb3duLnRlc3Rfb2sBCHdvcmtlci0wjX56/7Mr4ECp',
    'awE7TsmpSCgrdGVhckRvd25DbGFzcyAocGtnLnRlc3Rfc2FtcGxlLkJhZFRlYXJkb3duKQEId29ya2VyLTAzdGV4dC94LXRyYWNl',
    'YmFjazsgY2hhcnNldD0idXRmOCI7IGxhbmd1YWdlPSJweXRob24iCXRyYWNlYmFjayNUcmFjZWJhY2sgKG1vc3QgcmVjZW50IGNh',
    'bGwgbGFzdCk6CtMxy9CzK+BA5msBO07JqUgoK3RlYXJEb3duQ2xhc3MgKHBrZy50ZXN0X3NhbXBsZS5CYWRUZWFyZG93bikBCHdv',
    'cmtlci0wM3RleHQveC10cmFjZWJhY2s7IGNoYXJzZXQ9InV0ZjgiOyBsYW5ndWFnZT0icHl0aG9uIgl0cmFjZWJhY2tAXyAgRmls',
    'ZSAicGtnL3Rlc3Rfc2FtcGxlLnB5IiwgbGluZSAyNSwgaW4gdGVhckRvd25DbGFzcwogICAgcmFpc2UgUnVudGltZUVycm9yKCJs',
    'ZWFrZWQgYSB1c2VyIikKtyA5T7Mr8ECiawE7TsmpSCgrdGVhckRvd25DbGFzcyAocGtnLnRlc3Rfc2FtcGxlLkJhZFRlYXJkb3du',
    'KQEId29ya2VyLTAzdGV4dC94LXRyYWNlYmFjazsgY2hhcnNldD0idXRmOCI7IGxhbmd1YWdlPSJweXRob24iCXRyYWNlYmFjaxxS',
    'dW50aW1lRXJyb3I6IGxlYWtlZCBhIHVzZXIKKNJl5bMrhkBHawE7TsmpSCgrdGVhckRvd25DbGFzcyAocGtnLnRlc3Rfc2FtcGxl',
    'LkJhZFRlYXJkb3duKQEId29ya2VyLTClQSnUsyvgQKZrATtOybQhgChzZXRVcENsYXNzIChwa2cudGVzdF9zYW1wbGUuQnJva2Vu',
    'U2V0dXApAQh3b3JrZXItMDN0ZXh0L3gtdHJhY2ViYWNrOyBjaGFyc2V0PSJ1dGY4IjsgbGFuZ3VhZ2U9InB5dGhvbiIJdHJhY2Vi',
    'YWNrI1RyYWNlYmFjayAobW9zdCByZWNlbnQgY2FsbCBsYXN0KToKnsxtVbMr4EDgawE7Tsm0IYAoc2V0VXBDbGFzcyAocGtnLnRl',
    'c3Rfc2FtcGxlLkJyb2tlblNldHVwKQEId29ya2VyLTAzdGV4dC94LXRyYWNlYmFjazsgY2hhcnNldD0idXRmOCI7IGxhbmd1YWdl',
    'PSJweXRob24iCXRyYWNlYmFja0BcICBGaWxlICJwa2cvdGVzdF9zYW1wbGUucHkiLCBsaW5lIDEzLCBpbiBzZXRVcENsYXNzCiAg',
    'ICByYWlzZSBSdW50aW1lRXJyb3IoImNsb3VkIHNhaWQgbm8iKQqboP8hsyvwQJ9rATtOybQhgChzZXRVcENsYXNzIChwa2cudGVz',
    'dF9zYW1wbGUuQnJva2VuU2V0dXApAQh3b3JrZXItMDN0ZXh0L3gtdHJhY2ViYWNrOyBjaGFyc2V0PSJ1dGY4IjsgbGFuZ3VhZ2U9',
    'InB5dGhvbiIJdHJhY2ViYWNrHFJ1bnRpbWVFcnJvcjogY2xvdWQgc2FpZCBubwpzAPIUsyuGQERrATtOybQhgChzZXRVcENsYXNz',
    'IChwa2cudGVzdF9zYW1wbGUuQnJva2VuU2V0dXApAQh3b3JrZXItMKlFjRezK4I5awE7Tsm5OjAecGtnLnRlc3Rfc2FtcGxlLkdv',
    'b2QudGVzdF9mYWlsAQh3b3JrZXItMK6eZQGzK+BAnGsBO07JyK84HnBrZy50ZXN0X3NhbXBsZS5Hb29kLnRlc3RfZmFpbAEId29y',
    'a2VyLTAzdGV4dC94LXRyYWNlYmFjazsgY2hhcnNldD0idXRmOCI7IGxhbmd1YWdlPSJweXRob24iCXRyYWNlYmFjayNUcmFjZWJh',
    'Y2sgKG1vc3QgcmVjZW50IGNhbGwgbGFzdCk6CjhodNuzK+BA2WsBO07JyK84HnBrZy50ZXN0X3NhbXBsZS5Hb29kLnRlc3RfZmFp',
    'bAEId29ya2VyLTAzdGV4dC94LXRyYWNlYmFjazsgY2hhcnNldD0idXRmOCI7IGxhbmd1YWdlPSJweXRob24iCXRyYWNlYmFja0Bf',
    'ICBGaWxlICJwa2cvdGVzdF9zYW1wbGUucHkiLCBsaW5lIDYsIGluIHRlc3RfZmFpbAogICAgc2VsZi5hc3NlcnRFcXVhbCgxLCAy',
    'LCAibnVtYmVycyBkaWZmZXIiKQrCLaxxsyvgQQJrATtOycivOB5wa2cudGVzdF9zYW1wbGUuR29vZC50ZXN0X2ZhaWwBCHdvcmtl',
    'ci0wM3RleHQveC10cmFjZWJhY2s7IGNoYXJzZXQ9InV0ZjgiOyBsYW5ndWFnZT0icHl0aG9uIgl0cmFjZWJhY2tAiCAgRmlsZSAi',
    'L3Vzci9saWIvcHl0aG9uMy9kaXN0LXBhY2thZ2VzL3Rlc3R0b29scy90ZXN0Y2FzZS5weSIsIGxpbmUgMzkzLCBpbiBhc3NlcnRF',
    'cXVhbAogICAgc2VsZi5hc3NlcnRUaGF0KG9ic2VydmVkLCBtYXRjaGVyLCBtZXNzYWdlKQp/eorSsyvgQOprATtOycivOB5wa2cu',
    'dGVzdF9zYW1wbGUuR29vZC50ZXN0X2ZhaWwBCHdvcmtlci0wM3RleHQveC10cmFjZWJhY2s7IGNoYXJzZXQ9InV0ZjgiOyBsYW5n',
    'dWFnZT0icHl0aG9uIgl0cmFjZWJhY2tAcCAgRmlsZSAiL3Vzci9saWIvcHl0aG9uMy9kaXN0LXBhY2thZ2VzL3Rlc3R0b29scy90',
    'ZXN0Y2FzZS5weSIsIGxpbmUgNDgwLCBpbiBhc3NlcnRUaGF0CiAgICByYWlzZSBtaXNtYXRjaF9lcnJvcgrR5upQsyvwQLhrATtO',
    'ycivOB5wa2cudGVzdF9zYW1wbGUuR29vZC50ZXN0X2ZhaWwBCHdvcmtlci0wM3RleHQveC10cmFjZWJhY2s7IGNoYXJzZXQ9InV0',
    'ZjgiOyBsYW5ndWFnZT0icHl0aG9uIgl0cmFjZWJhY2s/dGVzdHRvb2xzLm1hdGNoZXJzLl9pbXBsLk1pc21hdGNoRXJyb3I6IDEg',
    'IT0gMjogbnVtYmVycyBkaWZmZXIKokMEe7MrhjlrATtOycivOB5wa2cudGVzdF9zYW1wbGUuR29vZC50ZXN0X2ZhaWwBCHdvcmtl',
    'ci0waXyUZ7MrgjlrATtOyc0EmB5wa2cudGVzdF9zYW1wbGUuR29vZC50ZXN0X3Bhc3MBCHdvcmtlci0wzITC6bMrgzlrATtOyc32',
    'yB5wa2cudGVzdF9zYW1wbGUuR29vZC50ZXN0X3Bhc3MBCHdvcmtlci0wZ0K4LbMrgjlrATtOyc8AaB5wa2cudGVzdF9zYW1wbGUu',
    'R29vZC50ZXN0X3NraXABCHdvcmtlci0whikam7Mr8EB9awE7TsnPuAAecGtnLnRlc3Rfc2FtcGxlLkdvb2QudGVzdF9za2lwAQh3',
    'b3JrZXItMBh0ZXh0L3BsYWluOyBjaGFyc2V0PXV0ZjgGcmVhc29uIlNlY3VyaXR5IGNvbXBsaWFuY2Ugbm90IGF2YWlsYWJsZS5G',
    'UBNlsyuFOWsBO07Jz7gAHnBrZy50ZXN0X3NhbXBsZS5Hb29kLnRlc3Rfc2tpcAEId29ya2VyLTDe5n4FsyvwQHxrATtOydG/iClz',
    'ZXRVcENsYXNzIChwa2cudGVzdF9zYW1wbGUuU2tpcHBlZENsYXNzKQEId29ya2VyLTAYdGV4dC9wbGFpbjsgY2hhcnNldD11dGY4',
    'BnJlYXNvbhZOb3ZhIGlzIG5vdCBhdmFpbGFibGUuNZS0nLMrhUBFawE7TsnRv4gpc2V0VXBDbGFzcyAocGtnLnRlc3Rfc2FtcGxl',
    'LlNraXBwZWRDbGFzcykBCHdvcmtlci0w7brwFA==',
  ].join(''),
  'base64',
);

describe('parseSubunitV2', () => {
  it('decodes every packet of a real stream', () => {
    const { packets, errors, nonSubunit } = parseSubunitV2(SAMPLE_SUBUNIT);
    assert.deepEqual(errors, []);
    assert.equal(nonSubunit, '');
    assert.equal(packets.length, 30); // as python-subunit counts them
    const first = packets[0]!;
    assert.equal(first.testId, 'pkg.test_sample.BadTeardown.test_ok');
    assert.equal(first.status, 'exists');
    assert.deepEqual(first.tags, ['worker-0']);
    assert.ok(packets.every((p) => p.tags?.includes('worker-0')));
  });

  it('decodes timestamps to milliseconds', () => {
    const { packets } = parseSubunitV2(SAMPLE_SUBUNIT);
    const started = packets.find((p) => p.status === 'inprogress')!;
    assert.equal(new Date(started.timestamp!).toISOString(), '2026-11-21T06:33:50.161Z');
  });

  it('gives the same packets when fed one byte at a time', () => {
    const decoder = new SubunitDecoder();
    const packets = [];
    for (const byte of SAMPLE_SUBUNIT) packets.push(...decoder.push(Uint8Array.of(byte)));
    packets.push(...decoder.end());
    assert.deepEqual(packets, parseSubunitV2(SAMPLE_SUBUNIT).packets);
    assert.deepEqual(decoder.errors, []);
  });

  it('skips a packet with a bad checksum and keeps the rest', () => {
    const damaged = Buffer.from(SAMPLE_SUBUNIT);
    damaged[10] = damaged[10]! ^ 0xff; // inside the first packet's test id
    const { packets, errors } = parseSubunitV2(damaged);
    assert.equal(packets.length, 29);
    assert.match(errors[0]!, /bad checksum/);
  });

  it('collects text outside packets and still finds the packets after it', () => {
    const mixed = Buffer.concat([Buffer.from('worker noise\n'), SAMPLE_SUBUNIT]);
    const { packets, nonSubunit } = parseSubunitV2(mixed);
    assert.equal(packets.length, 30); // as python-subunit counts them
    assert.equal(nonSubunit, 'worker noise\n');
  });

  it('survives a torn last packet', () => {
    const torn = SAMPLE_SUBUNIT.subarray(0, SAMPLE_SUBUNIT.length - 3);
    const { packets, errors } = parseSubunitV2(torn);
    assert.equal(packets.length, 29);
    assert.ok(errors.some((e) => e.includes('stream ends inside a packet')));
  });
});

describe('collectOutcomes', () => {
  const outcomes = collectOutcomes(parseSubunitV2(SAMPLE_SUBUNIT).packets);

  it('keeps the final status of each test', () => {
    const status = Object.fromEntries([...outcomes.values()].map((o) => [o.id, o.status]));
    assert.deepEqual(status, {
      'pkg.test_sample.BadTeardown.test_ok': 'success',
      'pkg.test_sample.BrokenSetup.test_never': 'exists',
      'pkg.test_sample.Good.test_fail': 'fail',
      'pkg.test_sample.Good.test_pass': 'success',
      'pkg.test_sample.Good.test_skip': 'skip',
      'pkg.test_sample.SkippedClass.test_also_never': 'exists',
      'tearDownClass (pkg.test_sample.BadTeardown)': 'fail',
      'setUpClass (pkg.test_sample.BrokenSetup)': 'fail',
      'setUpClass (pkg.test_sample.SkippedClass)': 'skip',
    });
  });

  it('joins attachment chunks: skip reasons and tracebacks', () => {
    assert.equal(
      outcomes.get('pkg.test_sample.Good.test_skip')!.attachments['reason'],
      'Security compliance not available.',
    );
    const tb = outcomes.get('pkg.test_sample.Good.test_fail')!.attachments['traceback']!;
    assert.match(tb, /^Traceback \(most recent call last\):\n/);
    assert.match(tb, /testtools\.matchers\._impl\.MismatchError: 1 != 2: numbers differ\n$/);
    assert.equal(
      outcomes.get('setUpClass (pkg.test_sample.BrokenSetup)')!.attachments['traceback'],
      'Traceback (most recent call last):\n  File "pkg/test_sample.py", line 13, in setUpClass\n' +
        '    raise RuntimeError("cloud said no")\nRuntimeError: cloud said no\n',
    );
  });

  it('records start and stop times', () => {
    const o = outcomes.get('pkg.test_sample.Good.test_fail')!;
    assert.ok(o.startedAt! > 0 && o.stoppedAt! >= o.startedAt!);
  });
});
