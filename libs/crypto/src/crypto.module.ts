import { Logger, Module } from '@nestjs/common';
import { KuraConfig } from '@kura/config';
import { ContentCrypto } from './content-crypto';
import { KeyRing } from './key-ring';

/** Imported by the capability that needs it (documents): not global, so the dependency shows. */
@Module({
  providers: [
    {
      provide: KeyRing,
      inject: [KuraConfig],
      useFactory: (config: KuraConfig) => {
        const ring = new KeyRing(config.keysDir, { production: config.isProduction, logger: new Logger(KeyRing.name) });
        ring.init();
        return ring;
      },
    },
    ContentCrypto,
  ],
  exports: [KeyRing, ContentCrypto],
})
export class CryptoModule {}
