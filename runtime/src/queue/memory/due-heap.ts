/** A queued job's place in the heap. */
export interface DueEntry {
  id: string;
  runAt: number;
}

/** A binary min-heap of queued jobs by (run_at, id). */
export class DueHeap {
  private readonly items: DueEntry[] = [];

  private less(a: DueEntry, b: DueEntry): boolean {
    return a.runAt < b.runAt || (a.runAt === b.runAt && a.id < b.id);
  }

  clear(): void {
    this.items.length = 0;
  }

  peek(): DueEntry | undefined {
    return this.items[0];
  }

  push(entry: DueEntry): void {
    const items = this.items;
    items.push(entry);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(items[i], items[parent])) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }

  pop(): DueEntry | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.less(items[l], items[m])) m = l;
        if (r < items.length && this.less(items[r], items[m])) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m], items[i]];
        i = m;
      }
    }
    return top;
  }
}
