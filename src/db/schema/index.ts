export * from './parties';
export * from './platform';
