import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { generateSchemas, schemasDir } from '../../devices/generate-schemas';
import { signedMessage } from '../../devices/reference-client';
import { canonicalJson } from '../../src/lib/canonical-json';
import { type DeviceMessage, deviceMessage, messageKinds, parseTopic, signingInput, signMessage, topicFor, verifySignature } from '../../src/modules/devices/contract';

/** The sample device documented in devices/README.md. */
const SAMPLE_DEVICE_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const SAMPLE_SECRET = 'sample-device-secret-do-not-use';

const devicesDir = fileURLToPath(new URL('../../devices/', import.meta.url));
const samplesDir = join(devicesDir, 'samples');
const sampleFiles = readdirSync(samplesDir)
  .filter((f) => f.endsWith('.json'))
  .sort();
const samples = sampleFiles.map((file) => ({ file, raw: readFileSync(join(samplesDir, file), 'utf8') }));

describe('devices/schemas', () => {
  it('are exactly what generate-schemas.ts makes from the contract (run `npm run devices:schemas` after changing it)', () => {
    const expected = generateSchemas();
    const present = readdirSync(schemasDir)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(present).toEqual([...expected.keys()].sort());
    for (const [name, text] of expected) expect(readFileSync(join(schemasDir, name), 'utf8'), name).toBe(text);
  });

  it('are valid draft 2020-12 schemas with one body schema per kind', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    for (const name of readdirSync(schemasDir)) {
      const schema = JSON.parse(readFileSync(join(schemasDir, name), 'utf8')) as Record<string, unknown>;
      expect(schema.$schema, name).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(() => ajv.compile(schema), name).not.toThrow();
    }
    for (const kind of messageKinds) expect(readdirSync(schemasDir)).toContain(`${kind}-body.schema.json`);
  });
});

describe('devices/samples', () => {
  it('has one sample per message kind', () => {
    expect(samples.map((s) => JSON.parse(s.raw).kind).sort()).toEqual([...messageKinds].sort());
    expect(sampleFiles).toEqual(messageKinds.map((k) => `${k}.json`).sort());
  });

  it.each(samples)('$file is a valid message signed with the sample secret', ({ raw }) => {
    const message = deviceMessage.parse(JSON.parse(raw));
    expect(message.deviceId).toBe(SAMPLE_DEVICE_ID);
    expect(verifySignature(SAMPLE_SECRET, message)).toBe(true);
    expect(message.sig).toBe(signMessage(SAMPLE_SECRET, message));
    expect(verifySignature('another-secret', message)).toBe(false);
  });

  it.each(samples)('$file is accepted by the generated JSON Schema files too', ({ file, raw }) => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    const json = JSON.parse(raw) as DeviceMessage;
    const full = ajv.compile(JSON.parse(readFileSync(join(schemasDir, 'device-message.schema.json'), 'utf8')));
    const body = ajv.compile(JSON.parse(readFileSync(join(schemasDir, `${json.kind}-body.schema.json`), 'utf8')));
    expect(full(json), `${file}: ${JSON.stringify(full.errors)}`).toBe(true);
    expect(body(json.body), `${file}: ${JSON.stringify(body.errors)}`).toBe(true);
    expect(full({ ...json, extra: 1 })).toBe(false);
    expect(full({ ...json, sig: json.sig.toUpperCase() })).toBe(false);
  });

  it('signing ignores key order and whitespace on the wire: only the canonical form counts', () => {
    for (const { raw } of samples) {
      const message = JSON.parse(raw) as DeviceMessage;
      const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(message).reverse()), null, 4)) as DeviceMessage;
      expect(verifySignature(SAMPLE_SECRET, deviceMessage.parse(reordered))).toBe(true);
      const input = signingInput(message);
      expect(input).toBe(canonicalJson(Object.fromEntries(Object.entries(message).filter(([k]) => k !== 'sig'))));
      expect(input).not.toMatch(/"sig"/);
      expect(input.startsWith('{"body":{')).toBe(true);
    }
  });

  it('the worked example in devices/README.md matches the heartbeat sample', () => {
    const readme = readFileSync(join(devicesDir, 'README.md'), 'utf8');
    const heartbeat = deviceMessage.parse(JSON.parse(samples.find((s) => s.file === 'heartbeat.json')!.raw));
    expect(readme).toContain(SAMPLE_DEVICE_ID);
    expect(readme).toContain(SAMPLE_SECRET);
    expect(readme).toContain(signingInput(heartbeat));
    expect(readme).toContain(heartbeat.sig);
    const alarm = deviceMessage.parse(JSON.parse(samples.find((s) => s.file === 'alarm.json')!.raw));
    expect(readme).toContain(signingInput(alarm));
    expect(readme).toContain(alarm.sig);
  });
});

describe('topics', () => {
  it('topicFor and parseTopic round-trip for every kind', () => {
    for (const kind of messageKinds) {
      const topic = topicFor(SAMPLE_DEVICE_ID, kind);
      expect(topic).toBe(`tf/v1/devices/${SAMPLE_DEVICE_ID}/${kind}`);
      expect(parseTopic(topic)).toEqual({ deviceId: SAMPLE_DEVICE_ID, kind });
    }
  });

  it.each([
    `tf/v1/devices/${SAMPLE_DEVICE_ID}/temperature`, // unknown kind
    `tf/v1/devices/${SAMPLE_DEVICE_ID}`, // no kind
    `tf/v1/devices/${SAMPLE_DEVICE_ID}/heartbeat/extra`, // too deep
    `tf/v1/devices/${SAMPLE_DEVICE_ID}/heartbeat/`, // trailing slash
    `/tf/v1/devices/${SAMPLE_DEVICE_ID}/heartbeat`, // leading slash
    'tf/v1/devices//heartbeat', // empty device id
    `tf/v2/devices/${SAMPLE_DEVICE_ID}/heartbeat`, // other version
    `TF/v1/devices/${SAMPLE_DEVICE_ID}/heartbeat`, // topics are case-sensitive
    `$share/threeflow-ingest/tf/v1/devices/${SAMPLE_DEVICE_ID}/heartbeat`,
    `tf/v1/devices/${SAMPLE_DEVICE_ID}/Heartbeat`,
  ])('parseTopic(%s) is null', (topic) => {
    expect(parseTopic(topic)).toBeNull();
  });
});

/** Every way to change one value in a message (except `sig`), each giving a different message. */
function tamperings(message: DeviceMessage): { what: string; tampered: Record<string, unknown> }[] {
  const out: { what: string; tampered: Record<string, unknown> }[] = [];
  const walk = (value: unknown, path: (string | number)[]) => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, [...path, i]));
      if (path.length) out.push({ what: `${path.join('.')}: one element dropped`, tampered: setAt(message, path, value.slice(1)) });
      return;
    }
    if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) if (!(path.length === 0 && k === 'sig')) walk(v, [...path, k]);
      if (path.length) out.push({ what: `${path.join('.')}: a field added`, tampered: setAt(message, path, { ...value, note: 'x' }) });
      return;
    }
    if (typeof value === 'number') out.push({ what: `${path.join('.')}: ${value} → ${value + 1}`, tampered: setAt(message, path, value + 1) });
    else if (typeof value === 'string') {
      out.push({ what: `${path.join('.')}: one character changed`, tampered: setAt(message, path, value.slice(0, -1) + (value.endsWith('0') ? '1' : '0')) });
      out.push({ what: `${path.join('.')}: upper-cased`, tampered: setAt(message, path, value.toUpperCase()) });
    }
  };
  walk(message, []);
  out.push({ what: 'kind swapped', tampered: { ...message, kind: message.kind === 'alarm' ? 'heartbeat' : 'alarm' } });
  out.push({ what: 'sig: one hex digit changed', tampered: { ...message, sig: (message.sig[0] === 'a' ? 'b' : 'a') + message.sig.slice(1) } });
  return out.filter((t) => JSON.stringify(t.tampered) !== JSON.stringify(message));
}

function setAt(root: unknown, path: (string | number)[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(root) as Record<string, unknown>;
  let node: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = value;
  return copy;
}

describe('signatures', () => {
  it.each(samples)('tampering any field of $file breaks verifySignature', ({ raw }) => {
    const message = deviceMessage.parse(JSON.parse(raw));
    const cases = tamperings(message);
    expect(cases.length).toBeGreaterThan(8);
    for (const { what, tampered } of cases) expect(verifySignature(SAMPLE_SECRET, tampered as DeviceMessage), what).toBe(false);
  });

  it('removing an optional body field breaks the signature', () => {
    const movement = deviceMessage.parse(JSON.parse(samples.find((s) => s.file === 'movement.json')!.raw));
    const { zone: _zone, ...body } = movement.body as Record<string, unknown>;
    expect(verifySignature(SAMPLE_SECRET, { ...movement, body } as DeviceMessage)).toBe(false);
  });

  it('the reference client signs exactly like signMessage (and its messages verify)', () => {
    for (const { raw } of samples) {
      const sample = deviceMessage.parse(JSON.parse(raw));
      const made = signedMessage({ deviceId: sample.deviceId, secret: SAMPLE_SECRET, seq: sample.seq, kind: sample.kind, body: sample.body, ts: sample.ts });
      expect(made).toEqual(sample);
    }
  });

  it('a signature is 64 lower-case hex characters and depends on the secret', () => {
    const heartbeat = deviceMessage.parse(JSON.parse(samples.find((s) => s.file === 'heartbeat.json')!.raw));
    expect(heartbeat.sig).toMatch(/^[0-9a-f]{64}$/);
    expect(signMessage('sample-device-secret-do-not-use!', heartbeat)).not.toBe(heartbeat.sig);
  });
});
