/**
 * Finds an island's markers in the page and the props the server serialized
 * beside each (see components/Island.tsx). No dependencies, so the islands'
 * early scripts can use it too.
 * @module
 */

/** Every `[data-island=name]` marker with its parsed props (`{}` when it has none). */
export function islandProps(name: string): Array<{ marker: HTMLElement; props: Record<string, unknown> }> {
  return [...document.querySelectorAll<HTMLElement>(`[data-island="${name}"]`)].map((marker) => {
    const propsId = marker.dataset.props;
    const source = propsId ? document.getElementById(propsId) : null;
    return { marker, props: source?.textContent ? JSON.parse(source.textContent) : {} };
  });
}
