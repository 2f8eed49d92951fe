export * from './chunked-aead';
export * from './key-ring';
export * from './content-crypto';
export * from './crypto.module';
