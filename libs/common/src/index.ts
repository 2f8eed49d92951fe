export * from './domain-error';
export * from './clock';
export * from './request-context';
export * from './json-logger';
export * from './shutdown';
export * from './classification';
export * from './canonical-json';
export * from './fonts';
