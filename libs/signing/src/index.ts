export * from './signer';
export * from './signing.module';
