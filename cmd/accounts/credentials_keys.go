package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/brokerly/accounts/adapters/aesgcm"
	"github.com/brokerly/accounts/adapters/postgres"
	"github.com/brokerly/accounts/app/query"
	"github.com/brokerly/accounts/domain/credential"
	"go.uber.org/zap"
)

// listKeys prints every configured key with its state and the stored values it seals,
// then every key id the database names that is not configured, with a note wherever
// deleting a key is or is not safe. Exit codes: 2 for CREDENTIAL_KEYS, 1 for the database.
func listKeys(ctx context.Context, cfg Config, log *zap.Logger, stdout io.Writer) int {
	keys, err := aesgcm.ParseKeys(cfg.CredentialKeys)
	if err != nil {
		log.Error("cannot list keys", zap.Error(fmt.Errorf("CREDENTIAL_KEYS: %w", err)))
		return 2
	}
	db, code := openAudited(ctx, cfg, log, "cannot list keys")
	if db == nil {
		return code
	}
	defer db.Close()

	uses, err := query.NewCredentialKeysHandler(postgres.NewRotationStore(db)).Handle(ctx, query.CredentialKeys{Configured: keys.Statuses()})
	if err != nil {
		log.Error("cannot list keys", zap.Error(err))
		return 1
	}
	if err := printKeyUses(stdout, uses); err != nil {
		log.Error("cannot list keys", zap.Error(err))
		return 1
	}
	return 0
}

// printKeyUses writes one aligned row per key: id, state, values sealed, and a note.
func printKeyUses(w io.Writer, uses []credential.KeyUse) error {
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY ID\tSTATE\tSEALED\tNOTE")
	for _, u := range uses {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", u.ID, u.State, u.Sealed, keyNote(u))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// A row without a note would end in the padding of the column before it.
	for line := range strings.Lines(table.String()) {
		if _, err := fmt.Fprintln(w, strings.TrimRight(line, " \n")); err != nil {
			return err
		}
	}
	return nil
}

func keyNote(u credential.KeyUse) string {
	switch {
	case u.SafeToDelete():
		return "safe to delete"
	case u.State == credential.KeyDisabled:
		return "not safe to delete yet: still seals values (enable it again and run credentials rotate)"
	case u.State == credential.KeyMissing:
		return "not in CREDENTIAL_KEYS: these values cannot be opened"
	}
	return ""
}
