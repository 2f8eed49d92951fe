import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public } from '@kura/access';
import { Signer } from '@kura/signing';

/** Anyone may fetch the public key: certificates and checkpoints are meant to be verified outside the service. */
@ApiTags('keys')
@Controller('keys')
export class KeysController {
  constructor(private readonly signer: Signer) {}

  @Public()
  @Get('public')
  publicKey(): { keyId: string; algorithm: 'Ed25519'; publicKeyPem: string } {
    return { keyId: this.signer.keyId, algorithm: this.signer.algorithm, publicKeyPem: this.signer.publicKeyPem };
  }
}
