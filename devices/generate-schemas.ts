/**
 * Writes devices/schemas/*.json: JSON Schema (draft 2020-12) for the device contract, generated
 * from the zod schemas in src/modules/devices/contract.ts, which stay the source of truth.
 *
 *   node --import tsx devices/generate-schemas.ts           write the files (and remove stale ones)
 *   node --import tsx devices/generate-schemas.ts --check   exit 1 if a file is missing, stale or different
 *
 * Output is stable: the same contract always gives byte-identical files (2-space indent, LF, final
 * newline), so test/unit/device-contract.test.ts can fail when the files drift from the contract.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { bodies, deviceMessage, messageKinds, TOPIC_ROOT } from '../src/modules/devices/contract';

export const schemasDir = fileURLToPath(new URL('./schemas/', import.meta.url));

const bodyDescriptions: Record<keyof typeof bodies, string> = {
  movement: 'Goods moved into or out of the warehouse (one lot of one SKU).',
  weight: 'A weighing of one lot of one SKU, gross, in grams.',
  count: 'A stock count of one zone: the quantity of every lot and SKU found there.',
  heartbeat: 'A periodic sign of life with the device’s health; every field is optional.',
  alarm: 'Something a person should look at: tampering, an open door, leaving a geofence, power loss.',
};

function withHeader(schema: Record<string, unknown>, title: string, description: string): Record<string, unknown> {
  const { $schema, ...rest } = schema;
  return { $schema, title, description, ...rest };
}

function render(schema: Record<string, unknown>): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/** Every schema file, by file name, with its exact contents. */
export function generateSchemas(): Map<string, string> {
  const files = new Map<string, string>();
  files.set(
    'device-message.schema.json',
    render(
      withHeader(
        z.toJSONSchema(deviceMessage, { target: 'draft-2020-12' }) as Record<string, unknown>,
        'threeflow device message',
        `The JSON payload a device publishes with QoS 1 to ${TOPIC_ROOT}/{deviceId}/{kind}. ` +
          '`sig` is the lower-case hex HMAC-SHA256, keyed with the device secret, of the canonical JSON of the message without `sig` ' +
          '(object keys sorted, no whitespace, UTF-8). See devices/README.md.',
      ),
    ),
  );
  for (const kind of messageKinds) {
    files.set(
      `${kind}-body.schema.json`,
      render(withHeader(z.toJSONSchema(bodies[kind], { target: 'draft-2020-12' }) as Record<string, unknown>, `threeflow device message body: ${kind}`, bodyDescriptions[kind])),
    );
  }
  return files;
}

/** File names in `dir` that differ from what the contract generates (missing, different or stale). */
export function schemaDrift(dir = schemasDir): string[] {
  const expected = generateSchemas();
  let present: string[] = [];
  try {
    present = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    present = [];
  }
  const problems: string[] = [];
  for (const [name, text] of expected) {
    if (!present.includes(name)) problems.push(`${name}: missing`);
    else if (readFileSync(join(dir, name), 'utf8') !== text) problems.push(`${name}: differs from the contract`);
  }
  for (const name of present) if (!expected.has(name)) problems.push(`${name}: not generated from the contract (stale)`);
  return problems;
}

function main(args: string[]) {
  if (args.includes('--check')) {
    const problems = schemaDrift();
    if (problems.length) {
      console.error(`devices/schemas is out of date; run npm run devices:schemas\n  ${problems.join('\n  ')}`);
      process.exit(1);
    }
    console.log('devices/schemas matches the contract');
    return;
  }
  mkdirSync(schemasDir, { recursive: true });
  const files = generateSchemas();
  for (const name of readdirSync(schemasDir)) if (name.endsWith('.json') && !files.has(name)) rmSync(join(schemasDir, name));
  for (const [name, text] of files) writeFileSync(join(schemasDir, name), text);
  console.log(`wrote ${files.size} schemas to ${schemasDir}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main(process.argv.slice(2));
