/**
 * The RePlaya CLI: sessions over the JSON API with a read token.
 *
 *   deno task cli sessions list [filters] | show ID | tail ID | report ID | export ID | delete ID
 *
 * Config: REPLAYA_URL and REPLAYA_TOKEN, or --url and --token. Tables for
 * people, --json for scripts; errors go to stderr with a non-zero exit (1: the
 * server said no or could not be reached, 2: wrong usage). Imports only its
 * own modules and the wire types, so it runs with `deno run <url>/cli/main.ts`
 * and compiles with `deno compile --allow-net --allow-env cli/main.ts`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Api, ApiError, type ListFilters } from "../client/api.ts";
import { ActivityReader, clock } from "../client/activity.ts";
import { formatDetails, formatList } from "./format.ts";

const COMMON = `Options for every command:
  --url URL        the server (default: $REPLAYA_URL)
  --token TOKEN    a read token from the dashboard's Tokens page (default: $REPLAYA_TOKEN)
  --json           machine-readable output
  -h, --help       this help`;

const HELP: Record<string, string> = {
  main: `replaya — read RePlaya sessions from the command line

Usage: replaya sessions <command> [options]

Commands:
  sessions list            list sessions, newest first (filters as on the dashboard)
  sessions show ID         one session's metadata and counts
  sessions tail ID         follow a session's activity as it happens (clicks, inputs, pages, errors)
  sessions report ID       the friction report (Markdown; --json for JSON)
  sessions export ID       the whole recording as JSON (--output FILE, else stdout)
  sessions delete ID       delete a session (needs a token with the delete scope)

Run 'replaya sessions <command> --help' for a command's options.

${COMMON}`,
  list: `Usage: replaya sessions list [options]

Filters:
  --user ID            exact user id (case ignored)
  --source NAME        recorder source
  --url-contains TEXT  part of the page URL
  --status live|ended
  --errors yes|no
  --from YYYY-MM-DD    --to YYYY-MM-DD   creation date range (UTC)
  --friction KIND      rage, dead, error_click, thrash, abandoned or any
  --limit N            rows (1-200, default 50)
  --cursor ID          the next page (printed after a full page)

${COMMON}`,
  show: `Usage: replaya sessions show ID [options]\n\n${COMMON}`,
  tail: `Usage: replaya sessions tail ID [options]

Prints the session's activity from its start, then follows it live until it
ends (or Ctrl-C). --json prints one JSON object per line.

${COMMON}`,
  report: `Usage: replaya sessions report ID [options]

Prints the friction report as Markdown (--json: the JSON report).

${COMMON}`,
  export: `Usage: replaya sessions export ID [--output FILE] [options]

Writes the recording (metadata and every rrweb event) as JSON.

${COMMON}`,
  delete: `Usage: replaya sessions delete ID [options]

Deletes the session for good. The token needs the "read and delete" scope.

${COMMON}`,
};

class UsageError extends Error {}

/** Runs the CLI; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        url: { type: "string" },
        token: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        user: { type: "string" },
        source: { type: "string" },
        "url-contains": { type: "string" },
        status: { type: "string" },
        errors: { type: "string" },
        from: { type: "string" },
        to: { type: "string" },
        friction: { type: "string" },
        limit: { type: "string" },
        cursor: { type: "string" },
        output: { type: "string", short: "o" },
      },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [group, command, id, ...extra] = positionals;
  if (!group || (group === "sessions" && !command)) {
    print(HELP.main);
    return values.help ? 0 : 2;
  }
  if (group !== "sessions" || !(command in HELP) || command === "main") {
    return usage(`unknown command: ${positionals.slice(0, 2).join(" ")}`);
  }
  if (values.help) {
    print(HELP[command]);
    return 0;
  }
  try {
    if (extra.length) throw new UsageError(`unexpected argument: ${extra[0]}`);
    if (command !== "list" && !id) throw new UsageError(`sessions ${command} needs a session ID`);
    if (command === "list" && id) throw new UsageError(`unexpected argument: ${id}`);
    const url = values.url ?? Deno.env.get("REPLAYA_URL");
    if (!url) throw new UsageError("no server: set REPLAYA_URL or pass --url");
    try {
      new URL(url);
    } catch {
      throw new UsageError(`not a URL: ${url}`);
    }
    const api = new Api({ url, token: values.token ?? Deno.env.get("REPLAYA_TOKEN") });
    const json = values.json === true;
    switch (command) {
      case "list":
        return await list(api, filters(values), json);
      case "show": {
        const details = await api.show(id);
        print(json ? JSON.stringify(details, null, 2) : formatDetails(details));
        return 0;
      }
      case "tail":
        return await tail(api, id, json);
      case "report":
        print(json ? JSON.stringify(await api.report(id), null, 2) : await api.reportMarkdown(id));
        return 0;
      case "export":
        return await exportSession(api, id, values.output);
      case "delete":
        await api.delete(id);
        print(json ? JSON.stringify({ ok: true, id }) : `deleted ${id}`);
        return 0;
    }
    return 2;
  } catch (error) {
    if (error instanceof UsageError) return usage(error.message, command);
    if (error instanceof ApiError) {
      fail(`${error.message}${hint(error, id)}`);
      return 1;
    }
    throw error;
  }
}

function filters(values: Record<string, string | boolean | undefined>): ListFilters {
  const one = <T extends string>(name: string, allowed: readonly T[]): T | undefined => {
    const value = values[name] as string | undefined;
    if (value !== undefined && !allowed.includes(value as T)) {
      throw new UsageError(`--${name} is one of ${allowed.join(", ")}`);
    }
    return value as T | undefined;
  };
  const date = (name: string) => {
    const value = values[name] as string | undefined;
    if (value !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new UsageError(`--${name} is YYYY-MM-DD`);
    return value;
  };
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 200)) {
    throw new UsageError("--limit is an integer from 1 to 200");
  }
  return {
    user: values.user as string | undefined,
    source: values.source as string | undefined,
    url: values["url-contains"] as string | undefined,
    status: one("status", ["live", "ended"] as const),
    errors: one("errors", ["yes", "no"] as const),
    from: date("from"),
    to: date("to"),
    friction: one("friction", ["rage", "dead", "error_click", "thrash", "abandoned", "any"] as const),
    limit,
    cursor: values.cursor as string | undefined,
  };
}

async function list(api: Api, filter: ListFilters, json: boolean): Promise<number> {
  const page = await api.list(filter);
  if (json) {
    print(JSON.stringify(page, null, 2));
    return 0;
  }
  print(page.sessions.length ? formatList(page.sessions) : "no sessions match");
  if (page.stoppedEarly) print(`(searched ${page.scanned} summaries without filling the page)`);
  if (page.next) print(`more: --cursor ${page.next}`);
  return 0;
}

async function tail(api: Api, id: string, json: boolean): Promise<number> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  Deno.addSignalListener("SIGINT", stop);
  const reader = new ActivityReader();
  try {
    for await (const item of api.live(id, controller.signal)) {
      if (item.kind === "meta") {
        line(json, { at: item.meta.createdAt, kind: "start", text: `session ${id} started at ${item.meta.url}` });
      } else if (item.kind === "events") {
        for (const activity of reader.read(item.events)) line(json, activity);
      } else {
        line(json, { at: item.stop.stoppedAt, kind: "end", text: `session ended (${item.stop.reason})` });
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
  }
  return 0;
}

function line(json: boolean, activity: { at: number; kind: string; text: string }): void {
  print(json ? JSON.stringify(activity) : `${clock(activity.at)}  ${activity.text}`);
}

async function exportSession(api: Api, id: string, output: string | undefined): Promise<number> {
  const res = await api.exportSession(id);
  if (output) {
    const file = await Deno.open(output, { write: true, create: true, truncate: true });
    await res.body!.pipeTo(file.writable);
    console.error(`wrote ${output}`);
  } else {
    await res.body!.pipeTo(Deno.stdout.writable, { preventClose: true });
  }
  return 0;
}

function hint(error: ApiError, id: string | undefined): string {
  if (error.status === 401) {
    return "\n(check REPLAYA_TOKEN / --token: mint a read token on the dashboard's Tokens page)";
  }
  if (error.status === 403 && error.code === "read_only_token") return "\n(this needs a token with the delete scope)";
  if (error.status === 403 && error.code === "token_scope") {
    return "\n(an ops token reads no session: use a read token)";
  }
  if (error.status === 404 && id) return `\n(no session ${id} on this server)`;
  if (error.status === 0) return "\n(is the server running? check REPLAYA_URL / --url)";
  return "";
}

function usage(message: string, command = "main"): number {
  fail(`${message}\n\n${HELP[command] ?? HELP.main}`);
  return 2;
}

function print(text: string): void {
  console.log(text);
}

function fail(message: string): void {
  console.error(`replaya: ${message}`);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
