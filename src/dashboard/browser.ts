// The browser APIs the dashboard uses, typed here. The project has one tsconfig for Node and
// browser code alike, and TypeScript's DOM library cannot join it: its BodyInit, BufferSource and
// KeyUsage types clash with @types/node's, failing the type check of server files. fetch,
// WebSocket, URL, performance and timers are typed by @types/node the same way browsers provide
// them; the document and its elements, the few members used, are declared below. Keep to them
// (the browser tests exercise every one).

export type BrowserEvent = {
  readonly type: string;
  readonly target: unknown;
  readonly key?: string;
  preventDefault(): void;
};
export type Listener = (e: BrowserEvent) => void;

export interface El {
  readonly tagName: string;
  id: string;
  textContent: string | null;
  hidden: boolean;
  readonly classList: {
    add(...c: string[]): void;
    remove(...c: string[]): void;
    toggle(c: string, force?: boolean): boolean;
    contains(c: string): boolean;
  };
  readonly children: ArrayLike<El>;
  setAttribute(name: string, value: string): void;
  getAttribute(name: string): string | null;
  removeAttribute(name: string): void;
  append(...nodes: Array<El | string>): void;
  prepend(...nodes: Array<El | string>): void;
  replaceChildren(...nodes: Array<El | string>): void;
  addEventListener(type: string, fn: Listener): void;
  querySelector(selector: string): El | null;
  contains(other: El | null): boolean;
  querySelectorAll(selector: string): ArrayLike<El>;
  remove(): void;
  focus(): void;
}
/** <input>, <select>, <textarea>, <button>. */
export interface Field extends El {
  value: string;
  disabled: boolean;
  checked: boolean;
}
export interface Dialog extends El {
  showModal(): void;
  close(returnValue?: string): void;
  returnValue: string;
  readonly open: boolean;
}

type Doc = {
  createElement(tag: string): El;
  createElementNS(ns: string, tag: string): El;
  getElementById(id: string): El | null;
  readonly body: El;
  readonly activeElement: El | null;
  title: string;
};
type Loc = { hash: string; host: string; protocol: string; search: string; pathname: string; replace(url: string): void };
type Win = { addEventListener(type: string, fn: Listener): void; removeEventListener(type: string, fn: Listener): void };
type Hist = { replaceState(data: unknown, unused: string, url: string): void };

const g = globalThis as unknown as { document: Doc; location: Loc; window: Win; history: Hist };

/** The page's document (only in a browser). */
export const doc = (): Doc => g.document;
export const loc = (): Loc => g.location;
export const win = (): Win => g.window;
export const hist = (): Hist => g.history;
