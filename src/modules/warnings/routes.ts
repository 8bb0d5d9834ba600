import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ctxOf } from '../../http/context';
import { pageSchema } from '../../lib/pagination';
import { authenticateApiKey } from '../parties/authenticate-api-key';
import { errorResponses, idempotencyHeader, json, jsonBody, writeErrorResponses } from '../../http/responses';
import type { AppDeps, AppEnv } from '../../http/types';
import { streamSSE } from 'hono/streaming';
import { requireRole } from '../../lib/context';
import { AppError } from '../../lib/errors';
import { idParam } from '../parties/schemas';
import { digestInput, getSignal, listSignals, listSignalsInput, morningDigest, signalOutput, signalViewPage, streamAccepts, streamInput } from './digest';
import { getWarningRun, listRunsInput, listWarningRuns } from './t1-run';
import type { SignalNotice } from './feed';
import { getWarningPolicy, listProgramRules, policyInput, ruleSettingInput, setProgramRule, setWarningPolicy } from './policies';
import { acknowledgeInput, assignInput, assignSignal, changeSignalStatus, resolveInput } from './signal-status';
import { createEndpointInput, createdEndpointOutput, createWebhookEndpoint, deliveryOutput, endpointOutput, listWebhookDeliveries, listWebhookEndpoints } from './webhooks';

const tags = ['Warnings'];
const signalId = idParam('signalId');
const programId = idParam('programId');
const ruleParams = z.object({
  programId: z.uuid({ message: 'must be a UUID' }).openapi({ param: { name: 'programId', in: 'path' } }),
  ruleId: z.string().min(1).max(100).openapi({ param: { name: 'ruleId', in: 'path' }, example: 'coverage_falling_fast' }),
});
type SignalP = { signalId: string };
type ProgramP = { programId: string };

const programRuleOutput = z
  .object({
    ruleId: z.string(),
    nameZh: z.string(),
    nameEn: z.string(),
    subjectType: z.string(),
    defaultSeverity: z.enum(['red', 'orange', 'yellow']),
    enabled: z.boolean(),
    params: z.record(z.string(), z.unknown()).openapi({ description: 'Effective parameters (defaults filled in)' }),
    parameterSchema: z.record(z.string(), z.unknown()).openapi({ description: 'JSON Schema of params' }),
    overridden: z.boolean().openapi({ description: 'The program set this rule; otherwise the catalogue default applies' }),
  })
  .openapi('ProgramWarningRule');
const programRulesOutput = z.object({ programId: z.uuid(), rules: z.array(programRuleOutput) }).openapi('ProgramWarningRules');
const policyOutput = z.object({ programId: z.uuid(), freezeLineOnRed: z.boolean(), blockReleaseOnRed: z.boolean(), makerCheckerOnRed: z.boolean() }).openapi('ProgramWarningPolicy');

const runOutput = z
  .object({
    id: z.uuid(),
    businessDate: z.string(),
    trigger: z.string(),
    status: z.string(),
    chunksTotal: z.number().int(),
    chunksDone: z.number().int(),
    chunksFailed: z.number().int(),
    subjectsEvaluated: z.number().int(),
    signalsRaised: z.number().int(),
    failures: z.number().int(),
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime().nullable(),
    durationMs: z.number().int().nullable(),
  })
  .openapi('WarningRun');

export function registerWarningsRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  app.openapi(
    createRoute({ method: 'post', path: '/v1/warning-runs', tags, summary: 'Run (or re-run) T+1 for a business day; progress at GET /v1/warning-runs/{runId}', request: { headers: idempotencyHeader, body: jsonBody(z.object({ businessDate: z.iso.date().optional().openapi({ description: 'Default: yesterday in BUSINESS_TZ' }) })) }, responses: { 202: json(runOutput, 'Started'), ...writeErrorResponses } }),
    async (c) => {
      const ctx = ctxOf(c, deps);
      requireRole(ctx, ['risk_officer', 'platform_admin']);
      if (!deps.startWarningRun) throw new AppError('unavailable', 'This process cannot start runs (no queue)');
      const started = await deps.startWarningRun(c.req.valid('json').businessDate);
      return c.json(await getWarningRun({ ctx, input: { runId: started.id } }), 202);
    },
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/warning-runs', tags, summary: 'T+1 runs, oldest first; filter by business day or status', request: { query: listRunsInput }, responses: { 200: json(pageSchema(runOutput).openapi('WarningRunPage'), 'A page'), ...errorResponses } }),
    async (c) => c.json(await listWarningRuns({ ctx: ctxOf(c, deps), input: c.req.valid('query') }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/warning-runs/{runId}', tags, summary: 'A T+1 run and its progress', request: { params: idParam('runId') }, responses: { 200: json(runOutput, 'The run'), ...errorResponses } }),
    async (c) => c.json(await getWarningRun({ ctx: ctxOf(c, deps), input: c.req.valid('param') as { runId: string } }), 200),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/signals/stream',
      tags,
      summary: 'Server-sent events: new and changed signals of your bank (event = signal.raised | signal.updated | signal.acknowledged | signal.resolved); credit officers receive those about credit lines, risk officers all',
      request: { query: streamInput },
      responses: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: z.string() } } }, ...errorResponses },
    }),
    async (c) => {
      const ctx = ctxOf(c, deps);
      requireRole(ctx, ['risk_officer', 'credit_officer']);
      const feed = deps.signalFeed;
      if (!feed) throw new AppError('unavailable', 'The live signal stream is not running in this process');
      const bank = ctx.actor.type === 'user' ? ctx.actor.organizationId : null;
      const filters = c.req.valid('query');
      const secret = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
      let checkedAt = Date.now();
      const stillAuthorized = () => {
        checkedAt = Date.now();
        return authenticateApiKey({ db: deps.db, clock: deps.clock, secret }).then(() => true, () => false);
      };
      return streamSSE(c, async (stream) => {
        const queue: SignalNotice[] = [];
        let wake: (() => void) | null = null;
        const unsubscribe = feed.subscribe((n) => {
          if (n.bankOrganizationId !== bank) return; // per bank: another bank's signals never reach this stream
          queue.push(n);
          wake?.();
        });
        stream.onAbort(() => {
          unsubscribe();
          wake?.(); // end the wait now, not at the next keep-alive
        });
        await stream.writeSSE({ event: 'ready', data: JSON.stringify({ bankOrganizationId: bank }) });
        while (!stream.aborted) {
          const next = queue.shift();
          if (!next) {
            await new Promise<void>((resolve) => {
              wake = resolve;
              setTimeout(resolve, 15_000); // a comment keeps proxies from closing an idle stream
            });
            wake = null;
            if (!queue.length && !stream.aborted) {
              // A key revoked (or a user suspended) while listening stops receiving at the next beat.
              if (!(await stillAuthorized())) {
                await stream.writeSSE({ event: 'revoked', data: JSON.stringify({ detail: 'The API key is no longer valid' }) });
                break;
              }
              await stream.write(': keep-alive\n\n');
            }
            continue;
          }
          if (Date.now() - checkedAt > 15_000 && !(await stillAuthorized())) {
            await stream.writeSSE({ event: 'revoked', data: JSON.stringify({ detail: 'The API key is no longer valid' }) });
            break;
          }
          let view;
          try {
            view = await getSignal({ ctx, input: { signalId: next.id } });
          } catch {
            continue; // deleted or not visible: skip
          }
          if (streamAccepts(ctx, view, filters)) await stream.writeSSE({ event: next.type, id: next.id, data: JSON.stringify(view) });
        }
        unsubscribe();
      });
    },
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/signals/digest', tags, summary: 'Morning digest: what business day T raised for your bank (JSON or plain text)', request: { query: digestInput }, responses: { 200: { description: 'The digest', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) }, 'text/plain': { schema: z.string() } } }, ...errorResponses } }),
    async (c) => {
      const result = await morningDigest({ ctx: ctxOf(c, deps), input: c.req.valid('query') });
      return (result.format === 'text' ? c.text(result.text, 200) : c.json(result.digest, 200)) as never;
    },
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/signals', tags, summary: "Signals of your bank (platform: all), filtered, oldest first; cursor-paged", request: { query: listSignalsInput }, responses: { 200: json(signalViewPage, 'A page'), ...errorResponses } }),
    async (c) => c.json(await listSignals({ ctx: ctxOf(c, deps), input: c.req.valid('query') }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/signals/{signalId}', tags, summary: 'One signal: status, assignee, maker-checker proposal, automatic actions', request: { params: signalId }, responses: { 200: json(signalOutput, 'The signal'), ...errorResponses } }),
    async (c) => c.json(await getSignal({ ctx: ctxOf(c, deps), input: c.req.valid('param') as SignalP }), 200),
  );
  app.openapi(
    createRoute({ method: 'post', path: '/v1/signals/{signalId}/acknowledge', tags, summary: 'Acknowledge a signal (risk officer), with a note', request: { params: signalId, headers: idempotencyHeader, body: jsonBody(acknowledgeInput) }, responses: { 200: json(signalOutput, 'Acknowledged'), ...writeErrorResponses } }),
    async (c) => c.json((await changeSignalStatus({ ctx: ctxOf(c, deps), input: { signalId: (c.req.valid('param') as SignalP).signalId, to: 'acknowledged', body: c.req.valid('json') } })).signal, 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/signals/{signalId}/resolve',
      tags,
      summary: 'Resolve a signal, or mark it a false positive (risk officer), with a note. Red signals of a program with makerCheckerOnRed take two officers: the first call proposes (202), a second officer confirms with the same resolution (200)',
      request: { params: signalId, headers: idempotencyHeader, body: jsonBody(resolveInput) },
      responses: { 200: json(signalOutput, 'Resolved'), 202: json(signalOutput, 'Proposed: awaits a second risk officer (awaitingSecondOfficer = true)'), ...writeErrorResponses },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const result = await changeSignalStatus({ ctx: ctxOf(c, deps), input: { signalId: (c.req.valid('param') as SignalP).signalId, to: body.resolution, body } });
      return result.outcome === 'proposed' ? c.json(result.signal, 202) : c.json(result.signal, 200);
    },
  );
  app.openapi(
    createRoute({ method: 'post', path: '/v1/signals/{signalId}/assign', tags, summary: "Assign a signal to an active risk officer of its bank, or unassign it (null); risk officer", request: { params: signalId, headers: idempotencyHeader, body: jsonBody(assignInput) }, responses: { 200: json(signalOutput, 'Assigned'), ...writeErrorResponses } }),
    async (c) => c.json(await assignSignal({ ctx: ctxOf(c, deps), input: { signalId: (c.req.valid('param') as SignalP).signalId, body: c.req.valid('json') } }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/programs/{programId}/warning-rules', tags, summary: 'The T+1 rule catalogue as this program runs it: on/off, parameters and their JSON Schema', request: { params: programId }, responses: { 200: json(programRulesOutput, 'The rules'), ...errorResponses } }),
    async (c) => c.json(await listProgramRules({ ctx: ctxOf(c, deps), input: c.req.valid('param') as ProgramP }), 200),
  );
  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/programs/{programId}/warning-rules/{ruleId}',
      tags,
      summary: "Switch a rule on or off for the program and set its parameters (risk officer of the program's bank); applies from the next run",
      request: { params: ruleParams, body: jsonBody(ruleSettingInput) },
      responses: { 200: json(programRuleOutput, 'The rule as the program now runs it'), ...writeErrorResponses },
    }),
    async (c) => {
      const p = c.req.valid('param') as { programId: string; ruleId: string };
      return c.json(await setProgramRule({ ctx: ctxOf(c, deps), input: { programId: p.programId, ruleId: p.ruleId, body: c.req.valid('json') } }), 200);
    },
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/programs/{programId}/warning-policy', tags, summary: "What the platform does by itself on a program's red signals, and whether closing one takes two officers", request: { params: programId }, responses: { 200: json(policyOutput, 'The policy'), ...errorResponses } }),
    async (c) => c.json(await getWarningPolicy({ ctx: ctxOf(c, deps), input: c.req.valid('param') as ProgramP }), 200),
  );
  app.openapi(
    createRoute({
      method: 'put',
      path: '/v1/programs/{programId}/warning-policy',
      tags,
      summary: "Set the program's policy on red signals: freeze the line, block release orders, maker-checker (risk officer of the program's bank)",
      request: { params: programId, body: jsonBody(policyInput) },
      responses: { 200: json(policyOutput, 'The policy'), ...writeErrorResponses },
    }),
    async (c) => c.json(await setWarningPolicy({ ctx: ctxOf(c, deps), input: { programId: (c.req.valid('param') as ProgramP).programId, body: c.req.valid('json') } }), 200),
  );
  app.openapi(
    createRoute({ method: 'post', path: '/v1/webhook-endpoints', tags, summary: 'Register a bank endpoint for signals (Standard Webhooks); the secret is shown once', request: { headers: idempotencyHeader, body: jsonBody(createEndpointInput) }, responses: { 201: json(createdEndpointOutput, 'Created'), ...writeErrorResponses } }),
    async (c) => {
      c.set('idempotencyNoStore', true);
      return c.json(await createWebhookEndpoint({ ctx: ctxOf(c, deps), input: c.req.valid('json'), secretKey: deps.deviceSecretKey }), 201);
    },
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/webhook-endpoints', tags, summary: "The bank's webhook endpoints", responses: { 200: json(z.object({ items: z.array(endpointOutput) }), 'Endpoints'), ...errorResponses } }),
    async (c) => c.json(await listWebhookEndpoints({ ctx: ctxOf(c, deps) }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/webhook-endpoints/{endpointId}/deliveries', tags, summary: 'Recent deliveries with every attempt', request: { params: idParam('endpointId') }, responses: { 200: json(z.object({ items: z.array(deliveryOutput) }), 'Deliveries'), ...errorResponses } }),
    async (c) => c.json(await listWebhookDeliveries({ ctx: ctxOf(c, deps), input: c.req.valid('param') as { endpointId: string } }), 200),
  );
}
