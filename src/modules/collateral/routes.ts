import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps, AppEnv } from '../../http/types';

/** Collateral API: warehouses, SKUs, prices, pledges, release orders, positions, quarantine, signals. */
export function registerCollateralRoutes(app: OpenAPIHono<AppEnv>, deps: AppDeps): void {
  void app;
  void deps;
}
