export * from './audit.types';
export * from './audit-event.entity';
export * from './audit-hash';
export * from './audit.repository';
export * from './audit.service';
export * from './audit.module';
