export * from './object-store';
export * from './storage.module';
export * from './store-timeouts';
