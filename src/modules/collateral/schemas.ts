import { z } from '@hono/zod-openapi';
import { pageQuerySchema, pageSchema } from '../../lib/pagination';
import { basisPoints, positiveFenInput } from '../financing/schemas';

/**
 * Lot codes, SKU codes, zones and tag ids travel in device messages too, so they obey the
 * device contract's code rule (src/modules/devices/contract.ts): what a pledge books, a
 * device can name.
 */
export const codeInput = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');

/** Quantities are integers in the SKU's base unit (kg, piece…). */
export const MAX_QUANTITY = 1_000_000_000_000;
export const quantityInput = z.number().int('must be a whole number of base units').min(1, 'must be 1 or more').max(MAX_QUANTITY);
const instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone, e.g. 2026-11-22T08:00:00+08:00' });

const distinct = (values: string[]) => new Set(values).size === values.length;

// ---------- warehouses ----------
const zonesInput = z
  .array(codeInput)
  .min(1, 'a warehouse has at least one zone')
  .max(500)
  .refine(distinct, { message: 'a zone is listed twice' });

export const createWarehouseInput = z
  .object({
    name: z.string().trim().min(1).max(200),
    address: z.string().trim().min(1).max(500),
    zones: zonesInput.openapi({ example: ['A1', 'A2', 'COLD-1'], description: 'Zone codes as devices report them' }),
  })
  .openapi('CreateWarehouse');
export const setZonesInput = z.object({ zones: zonesInput }).openapi('SetWarehouseZones');

export const warehouseOutput = z
  .object({
    id: z.uuid(),
    warehouseOrganizationId: z.uuid(),
    name: z.string(),
    address: z.string(),
    zones: z.array(z.string()),
    createdAt: z.iso.datetime(),
  })
  .openapi('Warehouse');
export const warehousePage = pageSchema(warehouseOutput).openapi('WarehousePage');

// ---------- SKUs and prices ----------
export const createSkuInput = z
  .object({
    code: codeInput,
    name: z.string().trim().min(1).max(200),
    unit: z.string().trim().min(1).max(20).openapi({ example: 'kg', description: 'The base unit every quantity of this SKU counts' }),
    nominalUnitWeightGrams: z.number().int().min(1).max(2_000_000_000).openapi({ example: 1000, description: 'What one base unit should weigh on a scale, grams' }),
    toleranceBp: basisPoints(10_000).openapi({ example: 200, description: 'Allowed sensed-vs-booked difference, basis points (200 = 2%)' }),
    haircutBp: basisPoints(10_000).openapi({ example: 3000, description: 'Value deduction for coverage, basis points (3000 = 30%); a program may override it' }),
  })
  .openapi('CreateSku');

const priceOutputShape = { priceFen: z.number().int(), effectiveAt: z.iso.datetime(), source: z.string() };
export const skuOutput = z
  .object({
    id: z.uuid(),
    code: z.string(),
    name: z.string(),
    unit: z.string(),
    nominalUnitWeightGrams: z.number().int(),
    toleranceBp: z.number().int(),
    haircutBp: z.number().int(),
    currentPrice: z.object(priceOutputShape).nullable().openapi({ description: 'The latest price effective now, per base unit' }),
    createdAt: z.iso.datetime(),
  })
  .openapi('Sku');
export const skuPage = pageSchema(skuOutput).openapi('SkuPage');

export const priceInput = z
  .object({
    priceFen: positiveFenInput.openapi({ description: 'Price of one base unit, fen' }),
    effectiveAt: instant,
    source: z.string().trim().min(1).max(100).openapi({ example: 'SHFE settlement' }),
  })
  .openapi('AddSkuPrice');
export const priceOutput = z
  .object({ id: z.uuid(), skuId: z.uuid(), skuCode: z.string(), ...priceOutputShape, createdAt: z.iso.datetime() })
  .openapi('SkuPrice');
export const pricePage = pageSchema(priceOutput).openapi('SkuPricePage');
export const priceImportReport = z
  .object({
    accepted: z.number().int(),
    rejected: z.number().int(),
    rows: z.array(
      z.object({
        row: z.number().int().openapi({ description: 'CSV line number (header = 1)' }),
        skuCode: z.string().nullable(),
        outcome: z.enum(['created', 'unchanged', 'rejected']),
        priceId: z.uuid().optional(),
        errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
      }),
    ),
  })
  .openapi('PriceImportReport');

// ---------- collateral terms ----------
export const MAX_LINE_BP = 1_000_000;
export const collateralTermsInput = z
  .object({
    haircutBp: basisPoints(10_000).nullable().optional().openapi({ description: "Overrides every SKU's haircut in this program; null or absent = use the SKU's" }),
    warningLineBp: z.number().int().min(1).max(MAX_LINE_BP).openapi({ example: 13000, description: 'Coverage below this (basis points of outstanding) is a warning' }),
    liquidationLineBp: z.number().int().min(1).max(MAX_LINE_BP).openapi({ example: 11000, description: 'Coverage below this calls for liquidation; must be under the warning line' }),
    priceMaxAgeHours: z.number().int().min(1).max(8760).openapi({ example: 48, description: 'A price older than this counts as missing' }),
  })
  .refine((t) => t.liquidationLineBp < t.warningLineBp, { message: 'must be below warningLineBp', path: ['liquidationLineBp'] })
  .openapi('CollateralTerms');
export const collateralTermsOutput = z
  .object({
    programId: z.uuid(),
    haircutBp: z.number().int().nullable(),
    warningLineBp: z.number().int(),
    liquidationLineBp: z.number().int(),
    priceMaxAgeHours: z.number().int(),
    updatedAt: z.iso.datetime(),
  })
  .openapi('CollateralTermsView');

// ---------- pledges ----------
const lotInput = z.object({
  lotCode: codeInput,
  skuCode: codeInput,
  quantity: quantityInput,
  zone: codeInput,
  tagIds: z.array(codeInput).max(1000).default([]).openapi({ description: 'RFID tags on the goods; each is pledged once at a time' }),
});
export const createPledgeInput = z
  .object({
    creditLineId: z.uuid(),
    warehouseId: z.uuid(),
    lots: z.array(lotInput).min(1).max(500),
  })
  .superRefine((v, ctx) => {
    const lots = new Map<string, number>();
    const tags = new Map<string, number>();
    v.lots.forEach((lot, i) => {
      if (lots.has(lot.lotCode)) ctx.addIssue({ code: 'custom', path: ['lots', i, 'lotCode'], message: `lot ${lot.lotCode} is already listed at lots/${lots.get(lot.lotCode)}` });
      else lots.set(lot.lotCode, i);
      lot.tagIds.forEach((tag, j) => {
        if (tags.has(tag)) ctx.addIssue({ code: 'custom', path: ['lots', i, 'tagIds', j], message: `tag ${tag} is listed twice` });
        else tags.set(tag, i);
      });
    });
  })
  .openapi('CreatePledge');
export const reasonInput = z.object({ reason: z.string().trim().min(1).max(500) }).openapi('CollateralReason');

const pledgeStatus = z.enum(['active', 'released']);
export const pledgeOutput = z
  .object({
    id: z.uuid(),
    reference: z.string(),
    bankOrganizationId: z.uuid(),
    supplierOrganizationId: z.uuid().openapi({ description: 'The pledgor: the credit line’s supplier' }),
    creditLineId: z.uuid(),
    warehouseId: z.uuid(),
    status: pledgeStatus,
    lots: z.array(z.object({ lotCode: z.string(), skuCode: z.string(), quantity: z.number().int(), zone: z.string(), tagIds: z.array(z.string()), active: z.boolean() })),
    createdAt: z.iso.datetime(),
  })
  .openapi('Pledge');
export const pledgePage = pageSchema(pledgeOutput).openapi('PledgePage');
export const listPledgesInput = pageQuerySchema.extend({ creditLineId: z.uuid().optional(), warehouseId: z.uuid().optional(), status: pledgeStatus.optional() });

// ---------- release orders ----------
export const createReleaseOrderInput = z
  .object({ lotCode: codeInput, quantity: quantityInput, validFrom: instant, validTo: instant })
  .refine((v) => Date.parse(v.validTo) > Date.parse(v.validFrom), { message: 'must be after validFrom', path: ['validTo'] })
  .openapi('CreateReleaseOrder');
export const releaseOrderOutput = z
  .object({
    id: z.uuid(),
    pledgeId: z.uuid(),
    pledgeReference: z.string(),
    lotCode: z.string(),
    quantity: z.number().int(),
    releasedQuantity: z.number().int().openapi({ description: 'How much has left against this order so far' }),
    validFrom: z.iso.datetime(),
    validTo: z.iso.datetime(),
    status: z.enum(['open', 'used', 'expired', 'cancelled']).openapi({ description: 'An open order past its validTo reads as expired' }),
    createdAt: z.iso.datetime(),
    createdBy: z.string(),
  })
  .openapi('ReleaseOrder');
export const releaseOrderPage = pageSchema(releaseOrderOutput).openapi('ReleaseOrderPage');

// ---------- positions and coverage ----------
const lotPosition = {
  lotCode: z.string(),
  skuCode: z.string().nullable(),
  pledgedQuantity: z.number().int(),
  releasedQuantity: z.number().int().openapi({ description: 'Σ released quantity of the lot’s release orders' }),
  bookedQuantity: z.number().int().openapi({ description: 'pledged − released' }),
  sensedQuantity: z.number().int().openapi({ description: 'Σ signed quantities of the movements devices reported for this lot in this warehouse' }),
  difference: z.number().int().openapi({ description: 'sensed − booked' }),
};
export const pledgePositionsOutput = z
  .object({
    pledgeId: z.uuid(),
    reference: z.string(),
    warehouseId: z.uuid(),
    status: pledgeStatus,
    lots: z.array(z.object({ ...lotPosition, zone: z.string(), active: z.boolean() })),
  })
  .openapi('PledgePositions');
export const warehousePositionsOutput = z
  .object({
    warehouseId: z.uuid(),
    lots: z.array(z.object({ ...lotPosition, pledgeId: z.uuid().nullable(), pledgeReference: z.string().nullable() })),
    skus: z.array(z.object({ skuCode: z.string().nullable(), pledgedQuantity: z.number().int(), releasedQuantity: z.number().int(), bookedQuantity: z.number().int(), sensedQuantity: z.number().int(), difference: z.number().int() })),
  })
  .openapi('WarehousePositions');

export const coverageOutput = z
  .object({
    creditLineId: z.uuid(),
    asOf: z.iso.datetime(),
    collateralValueFen: z.number().int().openapi({ description: 'Σ min(sensed, booked) × latest price × (1 − haircut), rounded down once' }),
    outstandingFen: z.number().int(),
    coverageBp: z.number().int().nullable().openapi({ description: 'collateral / outstanding in basis points, rounded down; null when nothing is outstanding or a price is missing (fail closed)' }),
    missingPrices: z.array(z.string()).openapi({ description: 'SKU codes whose latest price is absent or older than the program’s priceMaxAgeHours' }),
    warningLineBp: z.number().int().nullable(),
    liquidationLineBp: z.number().int().nullable(),
    status: z.enum(['ok', 'warning', 'liquidation', 'price_missing', 'no_exposure', 'no_terms']),
    lots: z.array(
      z.object({
        pledgeId: z.uuid(),
        pledgeReference: z.string(),
        lotCode: z.string(),
        skuCode: z.string(),
        bookedQuantity: z.number().int(),
        sensedQuantity: z.number().int(),
        countedQuantity: z.number().int().openapi({ description: 'min(sensed, booked), never below 0' }),
        priceFen: z.number().int().nullable(),
        priceEffectiveAt: z.iso.datetime().nullable(),
        haircutBp: z.number().int(),
      }),
    ),
  })
  .openapi('Coverage');

// ---------- monitoring ----------
export const listQuarantineInput = pageQuerySchema.extend({ warehouseId: z.uuid().optional(), reason: z.string().max(100).optional() });
export const quarantineOutput = z
  .object({
    id: z.uuid(),
    topic: z.string(),
    payload: z.string(),
    reason: z.string(),
    detail: z.string().nullable(),
    deviceId: z.uuid().nullable(),
    warehouseId: z.uuid().nullable(),
    receivedAt: z.iso.datetime(),
  })
  .openapi('QuarantinedMessage');
export const quarantinePage = pageSchema(quarantineOutput).openapi('QuarantinePage');


