/**
 * A plain error message block for pages (404, 403, 503).
 *
 * @module
 */

/** An error with a title and an explanation. */
export function ErrorPage({ title, message }: { title: string; message: string }) {
  return (
    <section class="error-page" data-testid="error-page">
      <h1>{title}</h1>
      <p>{message}</p>
      <p>
        <a href="/">Back to sessions</a>
      </p>
    </section>
  );
}
