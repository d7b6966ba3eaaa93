// CLI harness that drives the real better-auth package so Go tests can check
// interop (shared Postgres tables, session cookies, bearer tokens).
//
//   node harness.mjs migrate
//   node harness.mjs signup <email> <name>
//   node harness.mjs signout <cookie-pair>
//   node harness.mjs get-session <cookie-header | "Bearer <token>">...
//   node harness.mjs serve      (the commands above, one JSON array per stdin line)
//
// Env: DATABASE_URL (required), BETTER_AUTH_SECRET and/or BETTER_AUTH_SECRETS (at least
//      one; Better Auth itself reads BETTER_AUTH_SECRETS, "<version>:<secret>,...", and
//      prefers it), BETTER_AUTH_URL (default http://localhost:3000; an https:// URL puts
//      Better Auth in secure mode, so its cookies are named __Secure-...).
// Each command prints exactly one JSON line on stdout and exits 0; on failure
// it prints a message on stderr and exits 1. `serve` keeps one process (and one
// pool) for many commands, since loading Better Auth costs more than any command:
// each stdin line is a JSON array ["signup", "<email>", "<name>"], answered by one
// stdout line, {"ok": true, "result": {...}} or {"ok": false, "error": "..."};
// it exits when stdin closes.

// The Go side parses stdout as a single JSON line, so anything else that would
// go to stdout (library console.log calls outside Better Auth's logger, e.g.
// its adapter debug output) is sent to stderr instead. Our own result is
// written with process.stdout.write below.
const stderrLog = (...args) => console.error(...args);
console.log = console.info = console.debug = stderrLog;

import { betterAuth } from "better-auth";
import { admin, bearer } from "better-auth/plugins";
import { getMigrations } from "better-auth/db/migration";
import pg from "pg";
import readline from "node:readline";

const PASSWORD = "a-strong-password-123";

function requireEnv(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

function print(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

// Name=value pair as a browser would send it back: Set-Cookie up to the first ';'.
function cookiePair(setCookie) {
  const i = setCookie.indexOf(";");
  return i === -1 ? setCookie : setCookie.slice(0, i);
}

async function main() {
  // The Go side chooses the secrets: BETTER_AUTH_SECRETS, when set, is left for Better
  // Auth to read from the environment itself, exactly as a deployment's would be.
  if (!process.env.BETTER_AUTH_SECRET && !process.env.BETTER_AUTH_SECRETS) {
    throw new Error("BETTER_AUTH_SECRET or BETTER_AUTH_SECRETS must be set");
  }
  const [cmd, ...args] = process.argv.slice(2);
  const pool = new pg.Pool({ connectionString: requireEnv("DATABASE_URL") });
  const options = {
    secret: process.env.BETTER_AUTH_SECRET || undefined,
    baseURL: process.env.BETTER_AUTH_URL || "http://localhost:3000",
    database: pool,
    emailAndPassword: { enabled: true },
    plugins: process.env.BETTER_AUTH_ADMIN === "1" ? [bearer(), admin()] : [bearer()],
    session: { expiresIn: 604800, updateAge: 86400 },
    // Better Auth's default logger prints info/debug via console.log (stdout);
    // route every level to stderr so stdout stays one JSON line.
    logger: {
      disableColors: true,
      log: (level, message, ...rest) =>
        console.error(`[better-auth ${level}] ${message}`, ...rest),
    },
    // Telemetry is off by default; say so explicitly (no network besides Postgres).
    telemetry: { enabled: false },
  };

  try {
    if (cmd !== "serve") {
      print(await run(cmd, args, options));
      return;
    }
    const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of lines) {
      try {
        const [c, ...a] = JSON.parse(line);
        if (c === "serve") throw new Error("serve does not nest");
        print({ ok: true, result: await run(c, a, options) });
      } catch (err) {
        console.error(err?.stack || String(err));
        print({ ok: false, error: String(err?.message || err) });
      }
    }
  } finally {
    // An open pool keeps the event loop alive; close it so the process exits.
    await pool.end();
  }
}

// run carries out one command and returns what it prints.
async function run(cmd, args, options) {
  switch (cmd) {
    case "migrate": {
      // Better Auth's own migrator: diffs the live schema against its
      // expected one and only creates what is missing (no-op when present).
      const { runMigrations } = await getMigrations(options);
      await runMigrations();
      return { ok: true };
    }
    case "signup": {
      const [email, name] = args;
      if (!email || !name) throw new Error("usage: signup <email> <name>");
      const auth = betterAuth(options);
      const res = await auth.api.signUpEmail({
        body: { email, password: PASSWORD, name },
        asResponse: true,
      });
      if (!res.ok) throw new Error(`signUpEmail: HTTP ${res.status}: ${await res.text()}`);
      const body = await res.json();
      // getSetCookie() keeps multiple Set-Cookie headers apart (a plain
      // get("set-cookie") would join them with ", ").
      const setCookie = res.headers
        .getSetCookie()
        .find((c) => cookiePair(c).split("=")[0].endsWith("session_token"));
      if (!setCookie) throw new Error("no session_token Set-Cookie in response");
      return {
        userId: body.user?.id ?? null,
        token: body.token ?? null,
        setCookie,
        cookie: cookiePair(setCookie),
        bearer: res.headers.get("set-auth-token"),
      };
    }
    case "signout": {
      const [cookie] = args;
      if (!cookie) throw new Error("usage: signout <cookie-pair>");
      const auth = betterAuth(options);
      const res = await auth.api.signOut({
        headers: new Headers({ cookie }),
        asResponse: true,
      });
      return { status: res.status };
    }
    case "get-session": {
      // The user Better Auth's own getSession sees for each Cookie header (or, for an
      // argument starting "Bearer ", Authorization header), in order (null for none),
      // so the Go side can compare with what the service sees.
      if (args.length === 0) throw new Error("usage: get-session <cookie-header | \"Bearer <token>\">...");
      const auth = betterAuth(options);
      const userIds = [];
      for (const arg of args) {
        const headers = arg.startsWith("Bearer ") ? { authorization: arg } : { cookie: arg };
        const s = await auth.api.getSession({ headers: new Headers(headers) });
        userIds.push(s?.user?.id ?? null);
      }
      return { userIds };
    }
    case "impersonate": {
      // An admin signs up, is made an admin the way Better Auth's docs describe
      // (adminUserIds), and impersonates the user: what the service gets is the
      // impersonation session's cookie, exactly as Better Auth sets it.
      const [email, userId] = args;
      if (!email || !userId) throw new Error("usage: impersonate <admin-email> <user-id>");
      if (process.env.BETTER_AUTH_ADMIN !== "1") throw new Error("impersonate needs BETTER_AUTH_ADMIN=1");
      const signedUp = await betterAuth(options).api.signUpEmail({
        body: { email, password: PASSWORD, name: email },
        asResponse: true,
      });
      if (!signedUp.ok) throw new Error(`signUpEmail: HTTP ${signedUp.status}: ${await signedUp.text()}`);
      const adminId = (await signedUp.json()).user.id;
      const adminCookie = signedUp.headers
        .getSetCookie()
        .map(cookiePair)
        .find((c) => c.split("=")[0].endsWith("session_token"));
      const auth = betterAuth({ ...options, plugins: [bearer(), admin({ adminUserIds: [adminId] })] });
      const res = await auth.api.impersonateUser({
        body: { userId },
        headers: new Headers({ cookie: adminCookie }),
        asResponse: true,
      });
      if (!res.ok) throw new Error(`impersonateUser: HTTP ${res.status}: ${await res.text()}`);
      // Better Auth first expires the admin's own session cookie, then sets the new one:
      // the last session_token cookie is the impersonation's.
      const setCookie = res.headers
        .getSetCookie()
        .filter((c) => cookiePair(c).split("=")[0].endsWith("session_token"))
        .at(-1);
      if (!setCookie) throw new Error("no session_token Set-Cookie in the impersonation response");
      const body = await res.json();
      return {
        adminId,
        userId: body.session?.userId ?? null,
        impersonatedBy: body.session?.impersonatedBy ?? null,
        setCookie,
        cookie: cookiePair(setCookie),
      };
    }
    default:
      throw new Error(`unknown command ${JSON.stringify(cmd)} (migrate | signup | signout | get-session | impersonate | serve)`);
  }
}

main().catch((err) => {
  console.error(err?.stack || String(err));
  process.exitCode = 1;
});
