export * from './retention-period';
export * from './file-plan/file-plan';
export * from './certificate/certificate.model';
export * from './certificate/certificate.builder';
export * from './certificate/certificate-signing';
export * from './certificate/certificate-pdf';
