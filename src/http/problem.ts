import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AppError, errorStatus, errorTitle, type ErrorCode } from '../lib/errors';
import type { AppEnv } from './types';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** RFC 9457 problem document. Never carries a stack trace or an internal message on 500. */
export function problem(c: Context<AppEnv>, code: ErrorCode, detail: string, more: Record<string, unknown> = {}): Response {
  const status = errorStatus[code];
  const body = {
    type: `https://threeflow.dev/problems/${code.replaceAll('_', '-')}`,
    title: errorTitle[code],
    status,
    detail,
    code,
    requestId: c.get('requestId'),
    instance: c.req.path,
    ...more,
  };
  return c.body(JSON.stringify(body), status as ContentfulStatusCode, { 'content-type': PROBLEM_CONTENT_TYPE });
}

/** Maps anything thrown in a handler to a problem document; unknown errors are logged as 500s. */
export function errorToProblem(err: unknown, c: Context<AppEnv>): Response {
  if (err instanceof AppError) {
    const more: Record<string, unknown> = { ...err.extra };
    if (err.errors) more.errors = err.errors;
    return problem(c, err.code, err.message, more);
  }
  if (err instanceof HTTPException) {
    // Hono raises these for malformed JSON and the like: they are client errors.
    const code: ErrorCode = err.status === 413 ? 'payload_too_large' : err.status === 401 ? 'unauthenticated' : err.status < 500 ? 'validation_failed' : 'internal';
    if (code !== 'internal') return problem(c, code, err.message || errorTitle[code]);
  }
  const log = c.get('log');
  log?.error({ err, requestId: c.get('requestId') }, 'unhandled error');
  return problem(c, 'internal', `Something went wrong on our side. Quote request id ${c.get('requestId')} when reporting it.`);
}
