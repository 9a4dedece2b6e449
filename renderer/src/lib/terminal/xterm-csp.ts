import type { Terminal } from '@xterm/xterm';

/**
 * xterm 6's DOM renderer styles itself in two ways that the CSP (style-src 'self') blocks, each
 * blocked attempt being a reported violation:
 *  - three <style> elements filled with text (theme colours, row layout, scrollbar), created
 *    during open(); even an empty <style> is refused;
 *  - a style attribute per cell for 24-bit colours and for selected cells.
 * Both become CSSOM, which the CSP does not govern: the <style> elements are stand-ins whose text
 * goes to a constructed style sheet, and cell styles are set through element.style. Nothing is
 * loosened for the rest of the window: only this terminal's own elements take these paths.
 */
export function openUnderStrictCsp(term: Terminal, parent: HTMLElement): void {
  // open() is synchronous and creates all three <style> elements, so the swap lasts exactly as
  // long as xterm needs it and no other code can observe it.
  const create = document.createElement;
  document.createElement = ((tag: string, options?: ElementCreationOptions) =>
    tag.toLowerCase() === 'style' ? sheetBackedStandIn(create.call(document, 'template')) : create.call(document, tag, options)) as typeof create;
  try {
    term.open(parent);
  } finally {
    Reflect.deleteProperty(document, 'createElement');
  }
  cellStylesThroughCssom(term);
}

/** A <template> (never rendered) that xterm treats as its <style>: its text feeds an adopted sheet. */
function sheetBackedStandIn(element: HTMLElement): HTMLElement {
  const sheet = new CSSStyleSheet();
  let css = '';
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  Object.defineProperty(element, 'textContent', {
    get: () => css,
    set: (text: string) => {
      css = text;
      sheet.replaceSync(text);
    },
  });
  element.remove = () => {
    document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => s !== sheet);
    Element.prototype.remove.call(element);
  };
  return element;
}

interface RowFactory {
  _addStyle(element: HTMLElement, style: string): void;
}

/**
 * The DOM renderer's row factory writes cell colours with setAttribute('style'). It is private,
 * so this reaches in by name (stable through xterm 6); the e2e test selects text and prints 24-bit
 * colours under the CSP, so a renamed internal shows up there as a violation, not silently.
 */
function cellStylesThroughCssom(term: Terminal): void {
  const core = (term as unknown as { _core?: { _renderService?: { _renderer?: { value?: { _rowFactory?: RowFactory } } } } })._core;
  const rowFactory = core?._renderService?._renderer?.value?._rowFactory;
  if (!rowFactory) return;
  rowFactory._addStyle = (element, style) => {
    element.style.cssText += `${style};`;
  };
}
