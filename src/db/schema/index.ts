export * from './parties';
export * from './platform';
export * from './financing';
export * from './registry';
export * from './collateral';
export * from './warnings';
