import { Global, Logger, Module } from '@nestjs/common';
import { KuraConfig } from '@kura/config';
import { Signer } from './signer';

@Global()
@Module({
  providers: [
    {
      provide: Signer,
      inject: [KuraConfig],
      useFactory: (config: KuraConfig) =>
        Signer.load(config.keysDir, { generateIfMissing: !config.isProduction, logger: new Logger(Signer.name) }),
    },
  ],
  exports: [Signer],
})
export class SigningModule {}
