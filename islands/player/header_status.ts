/**
 * The session page's header is rendered on the server with the status the
 * session had then; when the player's stream ends, the player flips the
 * header's badge to "Ended" (the header marks itself with
 * `data-session-id` and its badge's wrapper with `data-session-status`).
 * @module
 */

/** Shows the session as ended in its page header; false when the page has no header for it. */
export function showEndedInHeader(doc: Document, sessionId: string): boolean {
  const header = [...doc.querySelectorAll<HTMLElement>("[data-session-status-for]")]
    .find((element) => element.dataset.sessionStatusFor === sessionId);
  if (!header) return false;
  header.dataset.status = "ended";
  const wrapper = header.querySelector<HTMLElement>("[data-session-status]");
  if (!wrapper || wrapper.dataset.sessionStatus === "ended") return true;
  wrapper.dataset.sessionStatus = "ended";
  const badge = wrapper.querySelector<HTMLElement>(".badge:not(.incomplete)");
  if (badge) {
    badge.className = "badge ended";
    badge.textContent = "Ended";
    badge.removeAttribute("title");
  }
  return true;
}
