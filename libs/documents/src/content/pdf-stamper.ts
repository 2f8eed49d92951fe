import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { CLASSIFICATION_LABELS_JA, classificationName, DomainError, ErrorCode, japaneseFontPath } from '@kura/common';
import { KuraConfig } from '@kura/config';
import type { StampReply, StampRequest, StampWorkerData } from './pdf-stamp.protocol';

export interface StampLabel {
  classification: number;
  documentId: string;
  version: number;
  username: string;
  at: Date;
}

/** `秘 CONFIDENTIAL`: the label in Japanese and English (A.5.13 labelling). */
export function classificationLabel(level: number): string {
  const name = classificationName(level);
  return `${CLASSIFICATION_LABELS_JA[name]} ${name}`;
}

// Built: the worker is compiled JavaScript beside this file. From TypeScript sources (tests),
// the worker compiles itself with the same swc hook the test child processes use.
const EXT = path.extname(__filename);
const WORKER_FILE = path.join(__dirname, `pdf-stamp.worker${EXT}`);
const WORKER_EXEC_ARGV = EXT === '.ts' ? ['-r', path.resolve(__dirname, '../../../../test/support/swc-register.cjs')] : undefined;

/**
 * Stamps every page of a PDF with the classification label, the document id and version,
 * the downloader and the UTC time. The PDF is untrusted: it is parsed in a bounded pool of
 * worker threads (heap limit, time limit, cap on decoded bytes, concurrency cap and a
 * bounded queue), so a hostile file is refused without stalling the api.
 */
@Injectable()
export class PdfStamper implements OnModuleDestroy {
  private readonly logger = new Logger(PdfStamper.name);
  private readonly idle: Worker[] = [];
  private readonly waiting: Array<() => void> = [];
  private running = 0;
  private closed = false;

  constructor(private readonly config: KuraConfig) {}

  async stamp(pdf: Buffer, label: StampLabel): Promise<Buffer> {
    const heading = classificationLabel(label.classification);
    const footer = `${heading} · Document ${label.documentId} v${label.version} · ${label.username} · ${label.at.toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
    await this.acquire();
    try {
      const reply = await this.run({ pdf: transferable(pdf), heading, footer });
      if (reply.ok) return Buffer.from(reply.pdf.buffer, reply.pdf.byteOffset, reply.pdf.byteLength);
      if (reply.reason === 'limits') {
        throw new DomainError(ErrorCode.UnprocessableContent, 'This classified PDF needs more memory, time or decompression than labelling allows, so it is not served.');
      }
      // An encrypted or malformed PDF cannot carry its label: refuse rather than send it unlabelled.
      throw new DomainError(ErrorCode.UnsupportedMediaType, 'This classified PDF cannot be labelled (it is encrypted or malformed), so it is not served.');
    } finally {
      this.release();
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    await Promise.all(this.idle.splice(0).map((w) => w.terminate()));
  }

  private async acquire(): Promise<void> {
    if (this.running < this.config.pdfStampConcurrency) {
      this.running++;
      return;
    }
    if (this.waiting.length >= this.config.pdfStampQueue) {
      throw new DomainError(ErrorCode.Unavailable, 'Too many PDFs are being labelled right now; try again shortly.', { retryAfterSeconds: 5 });
    }
    // release() hands its slot straight to the next waiter.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }

  private spawn(): Worker {
    const workerData: StampWorkerData = { fontPath: japaneseFontPath(), maxDecodedBytes: this.config.pdfStampMaxDecodedBytes };
    const worker = new Worker(WORKER_FILE, {
      workerData,
      execArgv: WORKER_EXEC_ARGV,
      resourceLimits: { maxOldGenerationSizeMb: this.config.pdfStampHeapMb, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
      // pdf-lib reports recoverable parse problems on the console: not for our logs.
      stdout: true,
      stderr: true,
    });
    worker.stdout.resume();
    worker.stderr.resume();
    // A worker that dies while idle is simply not reused.
    worker.on('error', () => undefined);
    worker.once('exit', () => {
      const i = this.idle.indexOf(worker);
      if (i >= 0) this.idle.splice(i, 1);
    });
    return worker;
  }

  /** One task on an idle (or new) worker; a worker that overran its limits is terminated, never reused. */
  private run(req: StampRequest): Promise<StampReply> {
    const worker = this.idle.pop() ?? this.spawn();
    worker.ref();
    return new Promise<StampReply>((resolve) => {
      const onMessage = (reply: StampReply) => finish(reply, true);
      // ERR_WORKER_OUT_OF_MEMORY and friends: the file needed more than the heap limit.
      const onError = (err: Error & { code?: string }) => {
        this.logger.warn({ msg: 'PDF labelling worker failed', code: err.code ?? err.name });
        finish({ ok: false, reason: 'limits' }, false);
      };
      const onExit = () => finish({ ok: false, reason: 'limits' }, false);
      const finish = (reply: StampReply, reusable: boolean) => {
        clearTimeout(timer);
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        if (reusable && !this.closed) {
          worker.unref();
          this.idle.push(worker);
        } else {
          void worker.terminate();
        }
        resolve(reply);
      };
      const timer = setTimeout(() => {
        this.logger.warn({ msg: 'PDF labelling exceeded its time limit; worker terminated', timeoutMs: this.config.pdfStampTimeoutMs });
        finish({ ok: false, reason: 'limits' }, false);
      }, this.config.pdfStampTimeoutMs);
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      worker.postMessage(req, [req.pdf.buffer as ArrayBuffer]);
    });
  }
}

/** A copy that owns its whole ArrayBuffer, so it can be moved to the worker without copying again. */
function transferable(buf: Buffer): Uint8Array {
  const own = new Uint8Array(buf.byteLength);
  own.set(buf);
  return own;
}
