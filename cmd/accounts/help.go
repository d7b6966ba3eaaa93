package main

import "slices"

const configHint = "\nConfiguration comes from environment variables; see the README.\n"

// commandHelp is what `accounts <command> --help` prints.
var commandHelp = map[string]string{
	"serve": `usage: accounts serve [--migrate]

Run the HTTP API until SIGTERM or SIGINT, then shut down gracefully.

  --migrate   create the database if it is missing and apply the embedded migrations first
`,
	"migrate": `usage: accounts migrate

Create the database if it is missing and apply the embedded migrations.
`,
	"credentials": `usage: accounts credentials rotate [--batch N] [--progress auto|always|never]
       accounts credentials keys
       accounts credentials generate-key --id ID

  rotate         re-seal every stored API key and secret under the first CREDENTIAL_KEYS key
    --batch N    rows re-sealed per batch (default 100)
    --progress   auto (default): a progress line redrawn on stderr when it is a terminal;
                 always or never; a summary line at the end in every case
  keys           list each key's state (primary, active, disabled, or missing: named by
                 stored values but not configured) and how many stored values it seals
  generate-key   print a new CREDENTIAL_KEYS entry (ID:base64 of 32 random bytes)
    --id ID      the key's id (letters, digits, - and _)
`,
	"dev-session": `usage: accounts dev-session --email ADDRESS [--json]

Development only: runs only with ACCOUNTS_DEV=1. Creates the Better Auth user with this
email if it is missing, and a session for it exactly as Better Auth would (a random
32-character token, Better Auth's default 7-day expiry), signed with the secret Better Auth
signs with (the first of BETTER_AUTH_SECRETS if set, else BETTER_AUTH_SECRET).
Prints the session cookie, the bearer header and a curl line for every endpoint.

  --email ADDRESS   the developer's email address
  --json            print only {"user_id","cookie","authorization"}
`,
}

func isHelpFlag(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

// helpFor returns the usage asked for by `accounts --help`, `accounts help` or a --help
// among a known command's arguments. Help needs no configuration.
func helpFor(args []string) (string, bool) {
	if isHelpFlag(args[0]) || args[0] == "help" {
		return usage, true
	}
	text, known := commandHelp[args[0]]
	if !known {
		return "", false
	}
	rest := args[1:]
	if i := slices.Index(rest, "--"); i >= 0 {
		rest = rest[:i]
	}
	if slices.ContainsFunc(rest, isHelpFlag) {
		return text + configHint, true
	}
	return "", false
}
