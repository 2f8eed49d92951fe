export * from './purposes/dto/purpose.dto';
export * from './purposes/purpose-context';
export * from './purposes/purposes.repository';
export * from './purposes/purposes.service';
export * from './ledger/ledger.query';
export * from './ledger/ledger.service';
export * from './ledger/specific-inventory';
export * from './mynumber.module';
