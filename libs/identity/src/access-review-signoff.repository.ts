import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AccessReviewSignoffEntity } from './access-review-signoff.entity';

@Injectable()
export class AccessReviewSignoffRepository {
  constructor(@InjectDataSource() readonly dataSource: DataSource) {}

  insert(manager: EntityManager, signoff: Omit<AccessReviewSignoffEntity, 'id'>): Promise<AccessReviewSignoffEntity> {
    const repo = manager.getRepository(AccessReviewSignoffEntity);
    return repo.save(repo.create(signoff));
  }

  latest(manager?: EntityManager): Promise<AccessReviewSignoffEntity | null> {
    return (manager ?? this.dataSource.manager).getRepository(AccessReviewSignoffEntity).findOne({ where: {}, order: { signedAt: 'DESC' } });
  }
}
