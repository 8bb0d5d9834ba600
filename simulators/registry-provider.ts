/**
 * A simulated registry/judicial/tax data provider (企查查/天眼查 style), served over HTTP so
 * demos and tests exercise the real provider path. It can be told, over HTTP too, to change
 * an enterprise (a new lawsuit, a new legal representative…) or to fail.
 *
 *   GET  /v1/enterprises/{creditCode}            the provider API (bearer token if configured)
 *   PUT  /admin/enterprises/{creditCode}          set a whole record
 *   POST /admin/enterprises/{creditCode}/changes  shallow-merge fields into the record
 *   POST /admin/outage  {"mode":"none"|"error"|"timeout"}
 *
 * Run alone: `npm run sim:registry` (PORT, default 4010). Unknown credit codes get a
 * realistic generated profile, stable for the same code.
 */
import { createHash } from 'node:crypto';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { ProviderRecord } from '../src/modules/registry/providers';

type Outage = 'none' | 'error' | 'timeout';

const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周'];
const GIVEN = ['伟', '芳', '娜', '敏', '静', '磊', '强', '军', '洋', '勇'];
const CITIES = ['上海市浦东新区', '苏州市工业园区', '宁波市北仑区', '东莞市松山湖', '合肥市高新区'];
const TRADES = ['精密机械', '电子元器件', '汽车零部件', '包装材料', '化工原料'];

/** A plausible profile for a credit code, the same every time for the same code. */
export function sampleRecord(creditCode: string): ProviderRecord {
  const h = createHash('sha256').update(creditCode).digest();
  const pick = <T>(list: T[], i: number) => list[h[i]! % list.length]!;
  const person = (i: number) => `${pick(SURNAMES, i)}${pick(GIVEN, i + 1)}`;
  const trade = pick(TRADES, 3);
  const first = 40 + (h[5]! % 40);
  return {
    CreditCode: creditCode,
    Name: `${pick(CITIES, 2).slice(0, 2)}${trade}有限公司`,
    Status: '存续',
    OperName: person(0),
    RegistCapi: `${(1 + (h[6]! % 50)) * 100}万元人民币`,
    RecCap: `${(1 + (h[6]! % 50)) * 50}万元人民币`,
    Partners: [
      { StockName: person(7), StockPercent: `${first}.00%` },
      { StockName: person(9), StockPercent: `${100 - first}.00%` },
    ],
    Employees: [
      { Name: person(0), Job: '执行董事兼总经理' },
      { Name: person(11), Job: '监事' },
    ],
    Address: `${pick(CITIES, 2)}创新路${1 + (h[12]! % 200)}号`,
    Scope: `${trade}的研发、生产、销售；货物及技术进出口。`,
    Industry: '制造业',
    Exceptions: [],
    SeriousViolations: [],
    Lawsuits: [],
    ZhiXing: [],
    ShiXin: [],
    Penalties: [],
    TaxCredit: pick(['A', 'A', 'B', 'M'], 13),
    TaxArrears: [],
    EquityPledges: [],
    ChattelMortgages: [],
  };
}

export interface RegistrySimulator {
  url: string;
  close(): Promise<void>;
}

export function createRegistrySimulatorApp(options: { token?: string } = {}) {
  const records = new Map<string, ProviderRecord>();
  let outage: Outage = 'none';
  const app = new Hono();
  const record = (code: string) => {
    if (!records.has(code)) records.set(code, sampleRecord(code));
    return records.get(code)!;
  };

  app.get('/v1/enterprises/:code', async (c) => {
    if (options.token && c.req.header('authorization') !== `Bearer ${options.token}`) return c.json({ Status: 401, Message: 'bad token' }, 401);
    if (outage === 'error') return c.json({ Status: 503, Message: '服务繁忙，请稍后再试' }, 503);
    if (outage === 'timeout') await new Promise((r) => setTimeout(r, 60_000));
    const code = c.req.param('code');
    if (code.startsWith('0')) return c.json({ Status: 404, Message: '查询无结果' }, 404);
    return c.json({ Status: 200, Message: '查询成功', Result: record(code) });
  });
  app.put('/admin/enterprises/:code', async (c) => {
    records.set(c.req.param('code'), (await c.req.json()) as ProviderRecord);
    return c.json({ ok: true });
  });
  app.post('/admin/enterprises/:code/changes', async (c) => {
    const code = c.req.param('code');
    const next = { ...record(code), ...((await c.req.json()) as Partial<ProviderRecord>) };
    records.set(code, next);
    return c.json(next);
  });
  app.post('/admin/outage', async (c) => {
    outage = ((await c.req.json()) as { mode: Outage }).mode;
    return c.json({ outage });
  });
  return app;
}

export function startRegistrySimulator(options: { port?: number; token?: string } = {}): Promise<RegistrySimulator> {
  const app = createRegistrySimulatorApp(options);
  return new Promise((resolve) => {
    const server: ServerType = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: '127.0.0.1' }, (info) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            (server as import('node:http').Server).closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 4010);
  void startRegistrySimulator({ port, token: process.env.REGISTRY_PROVIDER_TOKEN }).then((sim) => {
    process.stdout.write(`registry provider simulator on ${sim.url} (GET /v1/enterprises/{creditCode})\n`);
  });
}
