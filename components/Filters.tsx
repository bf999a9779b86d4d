/**
 * The list filters: a plain GET form, so filtered views are links.
 *
 * @module
 */

/** Props of {@link Filters}. */
export interface FiltersProps {
  values: Record<string, string>;
  /** The page the form filters (default the session list). */
  action?: string;
  /** Only user, source and URL (the live wall: every session there is live, and now). */
  textOnly?: boolean;
}

/** The friction filter's choices (values as `list.ts` reads them). */
const FRICTION_OPTIONS: ReadonlyArray<[string, string]> = [
  ["", "Any"],
  ["any", "With friction"],
  ["rage", "Rage clicks"],
  ["dead", "Dead clicks"],
  ["error_click", "Error clicks"],
  ["thrash", "Thrashing"],
  ["abandoned", "Abandoned forms"],
];

/** Renders the filter form with the current values. */
export function Filters({ values, action = "/", textOnly = false }: FiltersProps) {
  const v = (name: string) => values[name] ?? "";
  return (
    <form method="get" action={action} class="filters" data-testid="filters">
      <label>
        User <input name="user" value={v("user")} placeholder="exact user id" />
      </label>
      <label>
        Source <input name="source" value={v("source")} placeholder="site or app" />
      </label>
      <label>
        URL contains <input name="url" value={v("url")} placeholder="/checkout" />
      </label>
      {textOnly ? null : <ListFilters v={v} />}
      {!textOnly && v("sort") === "friction" ? <input type="hidden" name="sort" value="friction" /> : null}
      <button type="submit">Filter</button>
      <a href={action} class="reset">Reset</a>
    </form>
  );
}

/** The list page's status, errors and date filters. */
function ListFilters({ v }: { v: (name: string) => string }) {
  return (
    <>
      <label>
        Status
        <select name="status">
          <option value="" selected={!v("status")}>Any</option>
          <option value="live" selected={v("status") === "live"}>Live</option>
          <option value="ended" selected={v("status") === "ended"}>Ended</option>
        </select>
      </label>
      <label>
        Errors
        <select name="errors">
          <option value="" selected={!v("errors")}>Any</option>
          <option value="yes" selected={v("errors") === "yes"}>With errors</option>
          <option value="no" selected={v("errors") === "no"}>Without</option>
        </select>
      </label>
      <label>
        Friction
        <select name="friction">
          {FRICTION_OPTIONS.map(([value, label]) => (
            <option key={value} value={value} selected={v("friction") === value}>{label}</option>
          ))}
        </select>
      </label>
      <label>
        From <input type="date" name="from" value={v("from")} />
      </label>
      <label>
        To <input type="date" name="to" value={v("to")} />
      </label>
    </>
  );
}
