/** A gate a worker's hook waits at: the test sees when it is `reached` and decides when it may go on (`open`). */
export class Barrier {
  readonly reached: Promise<void>;
  private arrive!: () => void;
  private release!: () => void;
  private readonly opened: Promise<void>;
  constructor() {
    this.reached = new Promise((r) => (this.arrive = r));
    this.opened = new Promise((r) => (this.release = r));
  }
  wait(): Promise<void> {
    this.arrive();
    return this.opened;
  }
  open(): void {
    this.release();
  }
}
