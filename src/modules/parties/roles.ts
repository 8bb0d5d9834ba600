import { organizationKinds, userRoles } from '../../db/schema/parties';

export { organizationKinds, userRoles };
export type OrganizationKind = (typeof organizationKinds)[number];
export type UserRole = (typeof userRoles)[number];

/** Each role belongs to exactly one kind of organization (a bank has no supplier users). */
export const roleOrganizationKind: Record<UserRole, OrganizationKind> = {
  supplier_user: 'supplier', // 供应商
  core_enterprise_user: 'core_enterprise', // 核心企业
  credit_officer: 'bank', // 授信/信贷经理
  risk_officer: 'bank', // 风险经理 (贷后)
  warehouse_operator: 'warehouse', // 仓储监管方
  platform_admin: 'platform',
};

/** Kinds that are enterprises and so must carry a unified social credit code. */
export const kindsRequiringCreditCode: readonly OrganizationKind[] = ['supplier', 'core_enterprise', 'warehouse', 'bank'];
