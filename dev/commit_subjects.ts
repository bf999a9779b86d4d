/**
 * `deno task check` runs this: every commit since the convention began has a
 * subject a history can be scanned by — `area: what changed`, in the
 * imperative, at most 72 characters (the why and the figures go in the body).
 * Without a git repository (a tarball) there is nothing to check.
 *
 * @module
 */

/** The last commit before the convention: everything after it is held to it. */
export const CONVENTION_SINCE = "d3054c2";

/** The longest subject. */
export const MAX_SUBJECT = 72;

/** `area: what changed`: a lower-case area (letters, digits, `/`, `-`, `_`, `.`), a colon, a space, then words. */
const SHAPE = /^[a-z][a-z0-9/._-]*: \S/;

/** What is wrong with a subject, or undefined. */
export function subjectProblem(subject: string): string | undefined {
  if (subject.length > MAX_SUBJECT) return `is ${subject.length} characters (at most ${MAX_SUBJECT})`;
  if (!SHAPE.test(subject)) return "does not read `area: what changed`";
  return undefined;
}

if (import.meta.main) {
  const git = (args: string[]) =>
    new Deno.Command("git", { args, stdout: "piped", stderr: "null" }).output().catch(() => undefined);
  const known = await git(["rev-parse", "--verify", "--quiet", `${CONVENTION_SINCE}^{commit}`]);
  if (!known?.success) {
    console.log(`commit subjects: no git history with ${CONVENTION_SINCE} here; nothing to check`);
    Deno.exit(0);
  }
  const log = await git(["log", "--no-merges", "--format=%h %s", `${CONVENTION_SINCE}..HEAD`]);
  const lines = new TextDecoder().decode(log?.stdout).split("\n").filter(Boolean);
  const bad = lines.flatMap((line) => {
    const [hash, ...words] = line.split(" ");
    const problem = subjectProblem(words.join(" "));
    return problem ? [`${hash} "${words.join(" ")}" ${problem}`] : [];
  });
  if (bad.length > 0) {
    console.error(`commit subjects: ${bad.length} of ${lines.length} off the convention:\n${bad.join("\n")}`);
    Deno.exit(1);
  }
  console.log(
    `commit subjects: ${lines.length} since ${CONVENTION_SINCE}, all \`area: what changed\`, ≤ ${MAX_SUBJECT}`,
  );
}
