import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ctxOf } from '../../http/context';
import { errorResponses, idempotencyHeader, json, jsonBody, writeErrorResponses } from '../../http/responses';
import type { AppDeps, AppEnv } from '../../http/types';
import { pageQuerySchema } from '../../lib/pagination';
import { idParam } from '../parties/schemas';
import { getCollateralTerms, setCollateralTerms } from './collateral-terms';
import { getCoverage } from './coverage';
import { listQuarantine } from './monitoring';
import { createPledge, getPledge, listPledges, releasePledge } from './pledges';
import { listMovements, listMovementsInput, movementPage } from './movements';
import { getPledgePositions, getWarehousePositions } from './positions';
import { addSkuPrice, importPricesCsv, listSkuPrices } from './prices';
import { cancelReleaseOrder, createReleaseOrder, getReleaseOrder, listReleaseOrders } from './release-orders';
import {
  collateralTermsInput,
  collateralTermsOutput,
  coverageOutput,
  createPledgeInput,
  createReleaseOrderInput,
  createSkuInput,
  createWarehouseInput,
  listPledgesInput,
  listQuarantineInput,
  pledgeOutput,
  pledgePage,
  pledgePositionsOutput,
  priceImportReport,
  priceInput,
  priceOutput,
  pricePage,
  quarantinePage,
  reasonInput,
  releaseOrderOutput,
  releaseOrderPage,
  setZonesInput,
  skuOutput,
  skuPage,
  warehouseOutput,
  warehousePage,
  warehousePositionsOutput,
} from './schemas';
import { createSku, getSku, listSkus } from './skus';
import { createWarehouse, getWarehouse, listWarehouses, setWarehouseZones } from './warehouses';

const warehouseId = idParam('warehouseId');
const skuId = idParam('skuId');
const programId = idParam('programId');
const pledgeId = idParam('pledgeId');
const releaseOrderId = idParam('releaseOrderId');
const creditLineId = idParam('creditLineId');
type P<K extends string> = Record<K, string>;
const tags = ['Collateral'];

/** Collateral API: warehouses, SKUs, prices, pledges, release orders, positions, quarantine, signals. */
export function registerCollateralRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  // ---- warehouses
  app.openapi(
    createRoute({ method: 'post', path: '/v1/warehouses', tags, summary: 'Register a supervised warehouse with its zones (warehouse operator)', request: { headers: idempotencyHeader, body: jsonBody(createWarehouseInput) }, responses: { 201: json(warehouseOutput, 'Created'), ...writeErrorResponses } }),
    async (c) => c.json(await createWarehouse({ ctx: ctxOf(c, deps), input: c.req.valid('json') }), 201),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/warehouses', tags, summary: 'The operator’s warehouses, or those holding the caller’s pledges', request: { query: pageQuerySchema }, responses: { 200: json(warehousePage, 'A page'), ...errorResponses } }),
    async (c) => c.json(await listWarehouses({ ctx: ctxOf(c, deps), input: c.req.valid('query') }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/warehouses/{warehouseId}', tags, summary: 'Get a warehouse', request: { params: warehouseId }, responses: { 200: json(warehouseOutput, 'The warehouse'), ...errorResponses } }),
    async (c) => c.json(await getWarehouse({ ctx: ctxOf(c, deps), input: c.req.valid('param') as P<'warehouseId'> }), 200),
  );
  app.openapi(
    createRoute({ method: 'put', path: '/v1/warehouses/{warehouseId}/zones', tags, summary: 'Replace the zone list (a zone holding pledged lots cannot go)', request: { params: warehouseId, body: jsonBody(setZonesInput) }, responses: { 200: json(warehouseOutput, 'Updated'), ...writeErrorResponses } }),
    async (c) => c.json(await setWarehouseZones({ ctx: ctxOf(c, deps), input: { ...(c.req.valid('param') as P<'warehouseId'>), ...c.req.valid('json') } }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/warehouses/{warehouseId}/positions', tags, summary: 'Booked vs sensed per lot and per SKU (a bank or supplier sees only its own pledged lots)', request: { params: warehouseId }, responses: { 200: json(warehousePositionsOutput, 'Positions'), ...errorResponses } }),
    async (c) => c.json(await getWarehousePositions({ ctx: ctxOf(c, deps), input: c.req.valid('param') as P<'warehouseId'> }), 200),
  );

  // ---- SKUs and prices
  app.openapi(
    createRoute({ method: 'post', path: '/v1/skus', tags, summary: 'Define a SKU (credit officer, warehouse operator, platform admin)', request: { headers: idempotencyHeader, body: jsonBody(createSkuInput) }, responses: { 201: json(skuOutput, 'Created'), ...writeErrorResponses } }),
    async (c) => c.json(await createSku({ ctx: ctxOf(c, deps), input: c.req.valid('json') }), 201),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/skus', tags, summary: 'SKUs with their current price', request: { query: pageQuerySchema }, responses: { 200: json(skuPage, 'A page'), ...errorResponses } }),
    async (c) => c.json(await listSkus({ ctx: ctxOf(c, deps), input: c.req.valid('query') }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/skus/{skuId}', tags, summary: 'Get a SKU with its current price', request: { params: skuId }, responses: { 200: json(skuOutput, 'The SKU'), ...errorResponses } }),
    async (c) => c.json(await getSku({ ctx: ctxOf(c, deps), input: c.req.valid('param') as P<'skuId'> }), 200),
  );
  app.openapi(
    createRoute({ method: 'post', path: '/v1/skus/{skuId}/prices', tags, summary: 'Record a price per base unit, with effective time and source (credit officer, platform admin)', request: { params: skuId, headers: idempotencyHeader, body: jsonBody(priceInput) }, responses: { 201: json(priceOutput, 'Recorded'), ...writeErrorResponses } }),
    async (c) => c.json(await addSkuPrice({ ctx: ctxOf(c, deps), input: { ...(c.req.valid('param') as P<'skuId'>), ...c.req.valid('json') } }), 201),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/skus/{skuId}/prices', tags, summary: 'Price history by effective time', request: { params: skuId, query: pageQuerySchema }, responses: { 200: json(pricePage, 'A page'), ...errorResponses } }),
    async (c) => c.json(await listSkuPrices({ ctx: ctxOf(c, deps), input: { ...(c.req.valid('param') as P<'skuId'>), ...c.req.valid('query') } }), 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/prices/csv',
      tags,
      summary: 'Import prices from CSV (sku_code, price in yuan, effective_at, source); per-row report',
      request: { headers: idempotencyHeader, body: { content: { 'text/csv': { schema: z.string() } }, required: true } },
      responses: { 200: json(priceImportReport, 'Per-row report'), ...writeErrorResponses },
    }),
    async (c) => {
      const charset = /charset=([^;]+)/i.exec(c.req.header('content-type') ?? '')?.[1]?.trim();
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      return c.json(await importPricesCsv({ ctx: ctxOf(c, deps), input: { bytes, charset } }), 200);
    },
  );

  // ---- collateral terms
  app.openapi(
    createRoute({ method: 'put', path: '/v1/programs/{programId}/collateral-terms', tags, summary: 'Set the program’s coverage lines, price age limit and haircut override (credit officer)', request: { params: programId, body: jsonBody(collateralTermsInput) }, responses: { 200: json(collateralTermsOutput, 'The terms'), ...writeErrorResponses } }),
    async (c) => c.json(await setCollateralTerms({ ctx: ctxOf(c, deps), input: { ...(c.req.valid('param') as P<'programId'>), ...c.req.valid('json') } }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/programs/{programId}/collateral-terms', tags, summary: 'Get the program’s collateral terms', request: { params: programId }, responses: { 200: json(collateralTermsOutput, 'The terms'), ...errorResponses } }),
    async (c) => c.json(await getCollateralTerms({ ctx: ctxOf(c, deps), input: c.req.valid('param') as P<'programId'> }), 200),
  );

  // ---- pledges
  app.openapi(
    createRoute({ method: 'post', path: '/v1/pledges', tags, summary: 'Pledge the line’s supplier’s lots in a warehouse (动产质押, credit officer)', request: { headers: idempotencyHeader, body: jsonBody(createPledgeInput) }, responses: { 201: json(pledgeOutput, 'Created'), ...writeErrorResponses } }),
    async (c) => c.json(await createPledge({ ctx: ctxOf(c, deps), input: c.req.valid('json') }), 201),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/pledges', tags, summary: 'Pledges of the caller’s bank or supplier, or in the operator’s warehouses', request: { query: listPledgesInput }, responses: { 200: json(pledgePage, 'A page'), ...errorResponses } }),
    async (c) => c.json(await listPledges({ ctx: ctxOf(c, deps), input: c.req.valid('query') }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/pledges/{pledgeId}', tags, summary: 'Get a pledge with its lots', request: { params: pledgeId }, responses: { 200: json(pledgeOutput, 'The pledge'), ...errorResponses } }),
    async (c) => c.json(await getPledge({ ctx: ctxOf(c, deps), input: c.req.valid('param') as P<'pledgeId'> }), 200),
  );
  app.openapi(
    createRoute({ method: 'post', path: '/v1/pledges/{pledgeId}/release', tags, summary: 'Release the whole pledge (解除质押, credit officer); open release orders lapse', request: { params: pledgeId, headers: idempotencyHeader, body: jsonBody(reasonInput) }, responses: { 200: json(pledgeOutput, 'Released'), ...writeErrorResponses } }),
    async (c) => c.json(await releasePledge({ ctx: ctxOf(c, deps), input: { ...(c.req.valid('param') as P<'pledgeId'>), ...c.req.valid('json') } }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/pledges/{pledgeId}/positions', tags, summary: 'Per lot: pledged, released, booked, sensed and their difference', request: { params: pledgeId }, responses: { 200: json(pledgePositionsOutput, 'Positions'), ...errorResponses } }),
    async (c) => c.json(await getPledgePositions({ ctx: ctxOf(c, deps), input: c.req.valid('param') as P<'pledgeId'> }), 200),
  );

  // ---- release orders
  app.openapi(
    createRoute({ method: 'post', path: '/v1/pledges/{pledgeId}/release-orders', tags, summary: 'Issue a release order (放货指令) for a quantity of one lot within a window (credit officer)', request: { params: pledgeId, headers: idempotencyHeader, body: jsonBody(createReleaseOrderInput) }, responses: { 201: json(releaseOrderOutput, 'Issued'), ...writeErrorResponses } }),
    async (c) => c.json(await createReleaseOrder({ ctx: ctxOf(c, deps), input: { ...(c.req.valid('param') as P<'pledgeId'>), ...c.req.valid('json') } }), 201),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/pledges/{pledgeId}/release-orders', tags, summary: 'Release orders of a pledge', request: { params: pledgeId, query: pageQuerySchema }, responses: { 200: json(releaseOrderPage, 'A page'), ...errorResponses } }),
    async (c) => c.json(await listReleaseOrders({ ctx: ctxOf(c, deps), input: { ...(c.req.valid('param') as P<'pledgeId'>), ...c.req.valid('query') } }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/release-orders/{releaseOrderId}', tags, summary: 'Get a release order', request: { params: releaseOrderId }, responses: { 200: json(releaseOrderOutput, 'The order'), ...errorResponses } }),
    async (c) => c.json(await getReleaseOrder({ ctx: ctxOf(c, deps), input: c.req.valid('param') as P<'releaseOrderId'> }), 200),
  );
  app.openapi(
    createRoute({ method: 'post', path: '/v1/release-orders/{releaseOrderId}/cancel', tags, summary: 'Cancel what an open order still allows (credit officer)', request: { params: releaseOrderId, headers: idempotencyHeader, body: jsonBody(reasonInput) }, responses: { 200: json(releaseOrderOutput, 'Cancelled'), ...writeErrorResponses } }),
    async (c) => c.json(await cancelReleaseOrder({ ctx: ctxOf(c, deps), input: { ...(c.req.valid('param') as P<'releaseOrderId'>), ...c.req.valid('json') } }), 200),
  );

  // ---- coverage, quarantine, signals
  app.openapi(
    createRoute({ method: 'get', path: '/v1/credit-lines/{creditLineId}/coverage', tags, summary: 'Collateral value after haircut against outstanding; fails closed on a missing or stale price', request: { params: creditLineId }, responses: { 200: json(coverageOutput, 'Coverage now'), ...errorResponses } }),
    async (c) => c.json(await getCoverage({ ctx: ctxOf(c, deps), input: c.req.valid('param') as P<'creditLineId'> }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/quarantine', tags, summary: 'Device messages refused by ingestion, with why (warehouse operator, bank)', request: { query: listQuarantineInput }, responses: { 200: json(quarantinePage, 'A page'), ...errorResponses } }),
    async (c) => c.json(await listQuarantine({ ctx: ctxOf(c, deps), input: c.req.valid('query') }), 200),
  );

  app.openapi(
    createRoute({ method: 'get', path: '/v1/warehouses/{warehouseId}/movements', tags, summary: 'Movement history of a warehouse, newest first (its operator)', request: { params: idParam('warehouseId'), query: listMovementsInput }, responses: { 200: json(movementPage, 'A page'), ...errorResponses } }),
    async (c) => c.json(await listMovements({ ctx: ctxOf(c, deps), input: { ...(c.req.valid('param') as P<'warehouseId'>), ...c.req.valid('query') } }), 200),
  );
  app.openapi(
    createRoute({ method: 'get', path: '/v1/pledges/{pledgeId}/movements', tags, summary: "Movements of a pledge's lots, newest first", request: { params: idParam('pledgeId'), query: listMovementsInput }, responses: { 200: json(movementPage, 'A page'), ...errorResponses } }),
    async (c) => c.json(await listMovements({ ctx: ctxOf(c, deps), input: { ...(c.req.valid('param') as P<'pledgeId'>), ...c.req.valid('query') } }), 200),
  );
}
