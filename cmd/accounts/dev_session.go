package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/brokerly/accounts/adapters/betterauth"
	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/internal/devsession"
)

// devSessionCommand runs `accounts dev-session --email <address> [--json]`: a Better Auth
// session for local development, and how to use it. It writes a session anyone holding the
// output can use, so it runs only where ACCOUNTS_DEV=1 says this is a development setup.
func devSessionCommand(ctx context.Context, args []string, cfg Config, dev bool, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dev-session", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the developer's email address; the user is created if missing")
	asJSON := fs.Bool("json", false, `print one JSON object {"user_id","cookie","authorization"} and nothing else`)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !dev {
		fmt.Fprintln(stderr, "accounts: dev-session refuses to run without ACCOUNTS_DEV=1: it creates a signed-in session for anyone who reads its output, which only a development database should have")
		return 2
	}
	if *email == "" {
		fmt.Fprintln(stderr, "usage: accounts dev-session --email you@example.test [--json]")
		return 2
	}
	secret, _, err := sessionSecret(cfg) // the one Better Auth signs with, which the service verifies
	if err != nil {
		fmt.Fprintf(stderr, "accounts: dev-session: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	db, err := postgres.Open(ctx, postgresConfig(cfg))
	if err != nil {
		fmt.Fprintf(stderr, "accounts: dev-session: %v\n", err)
		return 1
	}
	defer db.Close()
	s, err := devsession.Create(ctx, db.Bun(), *email, secret, betterauth.CookieName(cfg.CookiePrefix, cfg.SecureCookies), time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "accounts: %v\n", err)
		return 1
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(map[string]string{"user_id": s.UserID, "cookie": s.Cookie, "authorization": s.Authorization}); err != nil {
			fmt.Fprintf(stderr, "accounts: dev-session: write the session: %v\n", err)
			return 1
		}
		return 0
	}
	printDevSession(stdout, s, baseURL(cfg.HTTPAddr))
	return 0
}

// baseURL is where a local client reaches HTTP_ADDR.
func baseURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://127.0.0.1:9403"
	}
	if isWildcardHost(host) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func printDevSession(w io.Writer, s devsession.Session, base string) {
	verb := "found"
	if s.Created {
		verb = "created"
	}
	q := func(v string) string { return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'" }
	auth := "-H " + q("Authorization: "+s.Authorization)
	fmt.Fprintf(w, "Signed in %s (user %s, %s), until %s.\n\n", s.Email, s.UserID, verb, s.ExpiresAt.Format(time.RFC3339))
	fmt.Fprintf(w, "Cookie:         %s\nAuthorization:  %s\n\n", s.Cookie, s.Authorization)
	fmt.Fprintf(w, "API docs: %s/docs\n\n", base)
	lines := []string{
		"curl -s " + auth + " " + base + "/api/accounts",
		"curl -s -X POST " + auth + " " + base + "/api/accounts/get-or-create",
		"curl -s -X POST " + auth + " -H 'Content-Type: application/json' -d '{\"account_name\":\"My account\"}' " + base + "/api/accounts",
		"curl -s -X POST " + auth + " -H 'Content-Type: application/json' -d '{\"account_id\":\"ACCOUNT_ID\",\"credential_type\":\"alpaca\",\"environment\":\"paper\",\"api_key\":\"PK...\",\"secret_key\":\"...\"}' " + base + "/api/credentials/store",
		"curl -s " + auth + " '" + base + "/api/credentials?account_id=ACCOUNT_ID'",
		"curl -s -X PUT " + auth + " -H 'Content-Type: application/json' -d '{\"nickname\":\"Paper\"}' " + base + "/api/credentials/CREDENTIAL_ID",
		"curl -s -X POST " + auth + " " + base + "/api/credentials/CREDENTIAL_ID/validate",
		"curl -s " + auth + " " + base + "/api/credentials/CREDENTIAL_ID/account-data",
		"curl -s " + auth + " " + base + "/api/credentials/CREDENTIAL_ID/events",
		"curl -s -X DELETE " + auth + " " + base + "/api/credentials/CREDENTIAL_ID",
		"# with the cookie instead (a browser's writes also need an allowed Origin):",
		"curl -s --cookie " + q(s.Cookie) + " " + base + "/api/accounts",
	}
	fmt.Fprintln(w, "Try it (ACCOUNT_ID and CREDENTIAL_ID come from the answers before):")
	for _, l := range lines {
		fmt.Fprintln(w, "  "+l)
	}
}
