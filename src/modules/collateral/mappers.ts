import type { collateralTerms, pledges, quarantine, releaseOrders, skuPrices, skus, warehouses } from '../../db/schema';
import { toApiFen } from '../../lib/money';

export type Warehouse = typeof warehouses.$inferSelect;
export type Sku = typeof skus.$inferSelect;
export type SkuPrice = typeof skuPrices.$inferSelect;
export type Pledge = typeof pledges.$inferSelect;
export type ReleaseOrder = typeof releaseOrders.$inferSelect;

export const toWarehouse = (w: Warehouse) => ({
  id: w.id,
  warehouseOrganizationId: w.warehouseOrganizationId,
  name: w.name,
  address: w.address,
  zones: w.zones,
  createdAt: w.createdAt.toISOString(),
});

export const toSku = (s: Sku, current: SkuPrice | undefined) => ({
  id: s.id,
  code: s.code,
  name: s.name,
  unit: s.unit,
  nominalUnitWeightGrams: s.nominalUnitWeightGrams,
  toleranceBp: s.toleranceBp,
  haircutBp: s.haircutBp,
  currentPrice: current ? { priceFen: toApiFen(current.priceFen), effectiveAt: current.effectiveAt.toISOString(), source: current.source } : null,
  createdAt: s.createdAt.toISOString(),
});

export const toPrice = (p: SkuPrice, skuCode: string) => ({
  id: p.id,
  skuId: p.skuId,
  skuCode,
  priceFen: toApiFen(p.priceFen),
  effectiveAt: p.effectiveAt.toISOString(),
  source: p.source,
  createdAt: p.createdAt.toISOString(),
});

export const toCollateralTerms = (t: typeof collateralTerms.$inferSelect) => ({
  programId: t.programId,
  haircutBp: t.haircutBp,
  warningLineBp: t.warningLineBp,
  liquidationLineBp: t.liquidationLineBp,
  priceMaxAgeHours: t.priceMaxAgeHours,
  updatedAt: t.updatedAt.toISOString(),
});

export interface PledgeLotView {
  lotCode: string;
  skuCode: string;
  quantity: number;
  zone: string;
  tagIds: string[];
  active: boolean;
}

export const toPledge = (p: Pledge, lots: PledgeLotView[]) => ({
  id: p.id,
  reference: p.reference,
  bankOrganizationId: p.bankOrganizationId,
  supplierOrganizationId: p.supplierOrganizationId,
  creditLineId: p.creditLineId,
  warehouseId: p.warehouseId,
  status: p.status,
  lots,
  createdAt: p.createdAt.toISOString(),
});

/**
 * An open order past its window reads as expired even before a job marks it: the warehouse
 * must never act on a stale authorization.
 */
export function releaseOrderStatus(r: ReleaseOrder, now: Date): ReleaseOrder['status'] {
  return r.status === 'open' && r.validTo.getTime() <= now.getTime() ? 'expired' : r.status;
}

export const toReleaseOrder = (r: ReleaseOrder, pledgeReference: string, now: Date) => ({
  id: r.id,
  pledgeId: r.pledgeId,
  pledgeReference,
  lotCode: r.lotCode,
  quantity: r.quantity,
  releasedQuantity: r.releasedQuantity,
  validFrom: r.validFrom.toISOString(),
  validTo: r.validTo.toISOString(),
  status: releaseOrderStatus(r, now),
  createdAt: r.createdAt.toISOString(),
  createdBy: r.createdBy,
});

export const toQuarantine = (q: typeof quarantine.$inferSelect) => ({
  id: q.id,
  topic: q.topic,
  payload: q.payload,
  reason: q.reason,
  detail: q.detail,
  deviceId: q.deviceId,
  warehouseId: q.warehouseId,
  receivedAt: q.receivedAt.toISOString(),
});

