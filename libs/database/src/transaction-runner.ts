import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** A unit of work's handle: repositories run their SQL on it, services only pass it along. */
export type Tx = EntityManager;

/**
 * The one way services open a transaction: they hand it work, repositories get the `Tx`.
 * Services never see the DataSource. Provided by each capability module that needs it
 * (it only needs the application's DataSource).
 */
@Injectable()
export class TransactionRunner {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Single statements outside a transaction (each on its own pooled connection). */
  get outside(): Tx {
    return this.dataSource.manager;
  }
}
