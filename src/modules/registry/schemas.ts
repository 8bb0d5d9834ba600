import { z } from '@hono/zod-openapi';
import { pageQuerySchema, pageSchema } from '../../lib/pagination';
import { creditCodeSchema } from '../parties/schemas';
import { changeTypes } from './diff';

export const creditCodeParam = z.object({ creditCode: creditCodeSchema.openapi({ param: { name: 'creditCode', in: 'path' } }) });

export const addWatchInput = z.object({ creditCode: creditCodeSchema, note: z.string().trim().min(1).max(200).openapi({ example: 'guarantor of 华东重工' }) }).openapi('AddWatch');
export const watchListOutput = z.object({ items: z.array(z.object({ creditCode: z.string(), name: z.string().nullable(), reasons: z.array(z.string()) })) }).openapi('WatchList');
export const watchAddedOutput = z.object({ creditCode: z.string(), note: z.string(), createdAt: z.iso.datetime() }).openapi('WatchAdded');
export const watchRemovedOutput = z.object({ creditCode: z.string(), removedAt: z.iso.datetime() }).openapi('WatchRemoved');

export const snapshotOutput = z
  .object({ creditCode: z.string(), version: z.number().int(), contentHash: z.string(), provider: z.string(), source: z.enum(['pull', 'push']), fetchedAt: z.iso.datetime(), content: z.record(z.string(), z.unknown()).optional() })
  .openapi('EnterpriseSnapshot');
export const snapshotPage = pageSchema(snapshotOutput).openapi('EnterpriseSnapshotPage');
export const versionParam = creditCodeParam.extend({ version: z.coerce.number().int().min(1).openapi({ param: { name: 'version', in: 'path' } }) });
export const diffQuery = z.object({ from: z.coerce.number().int().min(1), to: z.coerce.number().int().min(1) });

const changeTypeNames = Object.keys(changeTypes) as [keyof typeof changeTypes, ...(keyof typeof changeTypes)[]];
export const changeEventOutput = z
  .object({
    id: z.uuid().optional(),
    creditCode: z.string(),
    type: z.enum(changeTypeNames),
    severity: z.enum(['red', 'orange', 'yellow']),
    itemKey: z.string(),
    before: z.unknown(),
    after: z.unknown(),
    detail: z.unknown().optional(),
    fromVersion: z.number().int(),
    toVersion: z.number().int(),
    detectedAt: z.iso.datetime().optional(),
  })
  .openapi('RegistryChangeEvent');
export const diffOutput = z.object({ creditCode: z.string(), from: z.number().int(), to: z.number().int(), events: z.array(changeEventOutput) }).openapi('RegistryDiff');
export const listChangeEventsInput = pageQuerySchema.extend({
  type: z.enum(changeTypeNames).optional(),
  creditCode: creditCodeSchema.optional(),
  from: z.iso.datetime({ offset: true }).optional().openapi({ description: 'detected at or after' }),
  to: z.iso.datetime({ offset: true }).optional().openapi({ description: 'detected before' }),
});
export const changeEventPage = pageSchema(changeEventOutput).openapi('RegistryChangeEventPage');

export const pullRunOutput = z
  .object({ id: z.uuid(), provider: z.string(), trigger: z.enum(['schedule', 'api']), status: z.enum(['running', 'succeeded', 'partial']), total: z.number().int(), done: z.number().int(), failed: z.number().int(), startedAt: z.iso.datetime(), finishedAt: z.iso.datetime().nullable() })
  .openapi('RegistryPullRun');
export const providerStatusOutput = z
  .object({
    provider: z.string(),
    pullConfigured: z.boolean(),
    pushConfigured: z.boolean(),
    lastRun: pullRunOutput.nullable(),
    enterprises: z.array(z.object({ creditCode: z.string(), lastAttemptAt: z.iso.datetime(), lastSuccessAt: z.iso.datetime().nullable(), lastError: z.string().nullable(), consecutiveFailures: z.number().int() })),
  })
  .openapi('RegistryProviderStatus');
