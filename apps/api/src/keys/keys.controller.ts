import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public } from '@kura/access';
import { DomainError } from '@kura/common';
import { Signer } from '@kura/signing';
import { PublicKeyQuery } from './public-key.query';

/** Anyone may fetch the public keys: certificates and checkpoints are meant to be verified outside the service. */
@ApiTags('keys')
@Controller('keys')
export class KeysController {
  constructor(private readonly signer: Signer) {}

  @Public()
  @Get('public')
  publicKey(@Query() query: PublicKeyQuery): { keyId: string; algorithm: 'Ed25519'; publicKeyPem: string } {
    const keyId = query.keyId ?? this.signer.keyId;
    const publicKeyPem = this.signer.publicKeyPemOf(keyId);
    if (publicKeyPem === null) throw DomainError.notFound('signing key');
    return { keyId, algorithm: this.signer.algorithm, publicKeyPem };
  }
}
