import { Injectable } from '@nestjs/common';
import { DocumentAccess } from '@kura/access';
import { AuditService } from '@kura/audit';
import { Clock, DomainError, ErrorCode } from '@kura/common';
import type { DocumentEntity, PurposeGate } from '@kura/documents';
import type { Actor } from '@kura/identity';
import { CreatePurposeDto, PURPOSE_CODE, SetPurposesDto } from './dto/purpose.dto';
import { PURPOSE_HEADER, purposeContext } from './purpose-context';
import { PurposesRepository } from './purposes.repository';

export interface PurposeView {
  code: string;
  nameJa: string;
  nameEn: string;
  retired: boolean;
}

export interface PermittedPurposes {
  documentId?: string;
  seriesId?: string;
  purposes: string[];
}

/** A foreign key the database refused: the named series or document does not exist. */
function missingTarget(err: unknown, what: string): never {
  const e = err as { driverError?: { code?: string }; code?: string };
  if ((e.driverError ?? e).code === '23503') throw DomainError.notFound(what);
  throw err;
}

/**
 * Purpose-bound access to specific personal information (My Number Act art. 9, 19, 29; the
 * PPC guideline's 利用目的の特定と制限): the purposes list, the purposes series and documents
 * permit, and the gate every read, download and new version of a `specific` document passes.
 */
@Injectable()
export class PurposesService implements PurposeGate {
  constructor(
    private readonly repo: PurposesRepository,
    private readonly audit: AuditService,
    private readonly access: DocumentAccess,
    private readonly clock: Clock,
  ) {}

  async list(): Promise<{ items: PurposeView[] }> {
    const rows = await this.repo.list();
    return { items: rows.map((r) => ({ code: r.code, nameJa: r.nameJa, nameEn: r.nameEn, retired: r.retiredAt !== null })) };
  }

  async create(actor: Actor, dto: CreatePurposeDto): Promise<PurposeView> {
    return this.repo.transaction(async (m) => {
      if (!(await this.repo.insert(m, { ...dto, createdAt: this.clock.now(), createdBy: actor.id }))) {
        throw new DomainError(ErrorCode.Conflict, `The purpose ${dto.code} exists already.`);
      }
      await this.audit.append(m, { actor, action: 'mynumber.purpose.create', targetType: 'Purpose', targetId: dto.code, outcome: 'allowed', details: { nameJa: dto.nameJa, nameEn: dto.nameEn } });
      return { code: dto.code, nameJa: dto.nameJa, nameEn: dto.nameEn, retired: false };
    });
  }

  /**
   * A purpose that no longer applies: from now on it permits nothing (reads naming it get 403),
   * but it stays in the list, and in the ledger lines that named it.
   */
  async retire(actor: Actor, code: string): Promise<PurposeView> {
    return this.repo.transaction(async (m) => {
      if (!(await this.repo.retire(m, code, this.clock.now()))) throw DomainError.notFound('active purpose');
      await this.audit.append(m, { actor, action: 'mynumber.purpose.retire', targetType: 'Purpose', targetId: code, outcome: 'allowed' });
      const row = (await this.repo.list()).find((p) => p.code === code);
      return { code, nameJa: row?.nameJa ?? '', nameEn: row?.nameEn ?? '', retired: true };
    });
  }

  /** The default purposes of a series' `specific` documents (records officers: the file plan). */
  async setSeriesPurposes(actor: Actor, seriesId: string, dto: SetPurposesDto): Promise<PermittedPurposes> {
    const codes = await this.known(dto.purposes);
    await this.repo
      .transaction(async (m) => {
        await this.repo.replaceSeriesPurposes(m, seriesId, codes);
        await this.audit.append(m, { actor, action: 'mynumber.series.purposes', targetType: 'Series', targetId: seriesId, outcome: 'allowed', details: { purposes: codes } });
      })
      .catch((err: unknown) => missingTarget(err, 'series'));
    return { seriesId, purposes: codes };
  }

  async seriesPurposes(seriesId: string): Promise<PermittedPurposes> {
    return { seriesId, purposes: await this.repo.seriesPurposes(seriesId) };
  }

  /**
   * A `specific` document's own purposes (replacing its series' defaults; [] falls back to
   * them). Only someone who may update the document: a handler of its department.
   */
  async setDocumentPurposes(actor: Actor, documentId: string, dto: SetPurposesDto): Promise<PermittedPurposes> {
    // Hidden or missing: 404; visible but not updatable: 403 — both audited by the one access decision.
    const doc = await this.access.require<DocumentEntity>(actor, documentId, 'update', 'mynumber.document.purposes');
    if (doc.personalData !== 'specific') {
      throw DomainError.validation('Only documents marked specific carry purposes.', [{ field: 'purposes', messages: ['the document is not marked specific'] }]);
    }
    const codes = await this.known(dto.purposes);
    await this.repo.transaction(async (m) => {
      await this.repo.replaceDocumentPurposes(m, documentId, codes);
      await this.audit.append(m, { actor, action: 'mynumber.document.purposes', targetType: 'Document', targetId: documentId, outcome: 'allowed', details: { purposes: codes } });
    });
    return { documentId, purposes: (await this.repo.permittedFor(documentId, doc.seriesId)).codes };
  }

  async requirePurpose(actor: Actor, doc: { id: string; personalData: string; seriesId: string | null }, auditAction: string): Promise<{ purpose?: string }> {
    if (doc.personalData !== 'specific') return {};
    const named = purposeContext.current()?.trim();
    const deny = (details: Record<string, unknown>) => this.audit.record({ actor, action: auditAction, targetType: 'Document', targetId: doc.id, outcome: 'denied', details });
    if (!named) {
      await deny({ reason: 'purpose-missing' });
      throw DomainError.validation(`Name the purpose of this handling of specific personal information in the ${PURPOSE_HEADER} header (a purpose code, e.g. withholding-slip).`, [
        { field: PURPOSE_HEADER, messages: [`${PURPOSE_HEADER} is required for documents marked specific`] },
      ]);
    }
    if (named.length > 64 || !PURPOSE_CODE.test(named)) {
      await deny({ reason: 'purpose-malformed' });
      throw DomainError.validation(`${PURPOSE_HEADER} must be a purpose code (lowercase ASCII, e.g. withholding-slip); the Japanese names are in GET /mynumber/purposes.`, [
        { field: PURPOSE_HEADER, messages: [`${PURPOSE_HEADER} is not a purpose code`] },
      ]);
    }
    const permitted = await this.repo.permittedFor(doc.id, doc.seriesId);
    if (!permitted.codes.includes(named)) {
      await deny({ reason: 'purpose-not-permitted', purpose: named });
      throw new DomainError(ErrorCode.Forbidden, `The purpose ${named} is not permitted for this document.`, { permittedPurposes: permitted.codes });
    }
    return { purpose: named };
  }

  private async known(codes: string[]): Promise<string[]> {
    const unique = [...new Set(codes)].sort();
    const unknown = await this.repo.unknownCodes(unique);
    if (unknown.length) throw DomainError.validation(`Unknown or retired purposes: ${unknown.join(', ')}.`, [{ field: 'purposes', messages: unknown.map((c) => `${c} is not an active purpose`) }]);
    return unique;
  }
}
