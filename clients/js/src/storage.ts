// Where the client keeps what must outlive a page load or an app restart: the offline queue (messages not
// acked yet) and the last seq seen of each conversation. docs/clients.md, "Storage".

/** A key-value store of strings. Sync or async, so `localStorage`, React Native's `AsyncStorage` and an
 *  app's own database all fit. */
export interface Storage {
  getItem(key: string): string | null | undefined | Promise<string | null | undefined>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

/** The default: kept in memory, gone when the process ends. */
export class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();

  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }

  removeItem(key: string): void {
    this.items.delete(key);
  }
}

interface WebStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Browsers: `window.localStorage` (or any Web Storage object, e.g. `sessionStorage`). */
export class LocalStorageStorage implements Storage {
  private readonly store: WebStorage;

  constructor(store?: WebStorage) {
    const fallback = (globalThis as { localStorage?: WebStorage }).localStorage;
    const chosen = store ?? fallback;
    if (!chosen) throw new Error("LocalStorageStorage: no localStorage here (pass a Web Storage object)");
    this.store = chosen;
  }

  getItem(key: string): string | null {
    return this.store.getItem(key);
  }

  setItem(key: string, value: string): void {
    this.store.setItem(key, value);
  }

  removeItem(key: string): void {
    this.store.removeItem(key);
  }
}
