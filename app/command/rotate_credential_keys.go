package command

import (
	"context"
	"errors"
	"fmt"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/ports"
)

// RotateCredentialKeys re-seals every stored secret under the cipher's primary key, batch
// by batch. Each row is swapped on its own, only if unchanged since it was read, so the
// command can be interrupted at any point and run again. Every credential it re-seals, or
// fails to open, gets an event in its trail, under the request id of ctx.
type RotateCredentialKeys struct {
	BatchSize int
	// Progress, if set, hears how far the run is: once before the first row and after
	// every row. It runs on the handler's goroutine, so it should be quick.
	Progress func(RotationProgress)
}

// RotationProgress is Done of Total credentials. Total is what was stale at the start,
// raised to Done if rows became stale during the run (an instance still sealing under an
// old key).
type RotationProgress struct {
	Done, Total int
}

// RotationReport counts what a run did. Failed rows could not be opened (tampered, or
// their key is disabled or gone) and were left as they are.
type RotationReport struct {
	Total    int // stale credentials when the run started
	Resealed int
	Skipped  int // changed by someone else meanwhile; already under the primary key
	Failed   []domain.ID
}

// Done is how many credentials the run has handled, whatever the outcome.
func (r RotationReport) Done() int { return r.Resealed + r.Skipped + len(r.Failed) }

// Progress is how far the run is: Done of Total, Total raised to Done when rows became
// stale during the run.
func (r RotationReport) Progress() RotationProgress {
	return RotationProgress{Done: r.Done(), Total: max(r.Total, r.Done())}
}

type RotateCredentialKeysHandler struct {
	store  ports.RotationStore
	cipher ports.Cipher
}

func NewRotateCredentialKeysHandler(store ports.RotationStore, cipher ports.Cipher) RotateCredentialKeysHandler {
	if store == nil || cipher == nil {
		panic("command: RotateCredentialKeysHandler needs a rotation store and a cipher")
	}
	return RotateCredentialKeysHandler{store: store, cipher: cipher}
}

func (h RotateCredentialKeysHandler) Handle(ctx context.Context, cmd RotateCredentialKeys) (RotationReport, error) {
	batch := cmd.BatchSize
	if batch <= 0 {
		batch = 100
	}
	var report RotationReport
	total, err := h.store.CountStale(ctx, h.cipher.PrimaryKeyID())
	if err != nil {
		return report, fmt.Errorf("rotate keys: %w", err)
	}
	report.Total = total
	progress := func() {
		if cmd.Progress != nil {
			cmd.Progress(report.Progress())
		}
	}
	progress()
	var after domain.ID
	for {
		pairs, err := h.store.Stale(ctx, h.cipher.PrimaryKeyID(), after, batch)
		if err != nil {
			return report, fmt.Errorf("rotate keys: %w", err)
		}
		for _, old := range pairs {
			after = old.CredentialID
			if err := h.rotate(ctx, old, &report); err != nil {
				return report, fmt.Errorf("rotate keys: credential %s: %w", old.CredentialID, err)
			}
			progress()
		}
		if len(pairs) < batch {
			return report, nil
		}
	}
}

// rotate re-seals one credential, or records that it does not open, and counts the outcome.
func (h RotateCredentialKeysHandler) rotate(ctx context.Context, old ports.SealedPair, report *RotationReport) error {
	resealed, err := h.reseal(old)
	if errors.Is(err, ports.ErrUndecryptable) {
		report.Failed = append(report.Failed, old.CredentialID)
		return h.store.OpenFailed(ctx, old)
	}
	if err != nil {
		return err
	}
	swapped, err := h.store.Reseal(ctx, old, resealed)
	if err != nil {
		return err
	}
	if swapped {
		report.Resealed++
	} else {
		report.Skipped++
	}
	return nil
}

func (h RotateCredentialKeysHandler) reseal(old ports.SealedPair) (ports.SealedPair, error) {
	out := old
	for _, f := range []struct {
		field credential.Field
		from  credential.Sealed
		to    *credential.Sealed
	}{
		{credential.FieldAPIKey, old.APIKey, &out.APIKey},
		{credential.FieldSecretKey, old.SecretKey, &out.SecretKey},
	} {
		b := ports.Binding{CredentialID: old.CredentialID, Owner: old.Owner, Field: f.field}
		plain, err := h.cipher.Open(f.from, b)
		if err != nil {
			return ports.SealedPair{}, err
		}
		if *f.to, err = h.cipher.Seal(plain, b); err != nil {
			return ports.SealedPair{}, fmt.Errorf("seal %s: %w", f.field, err)
		}
	}
	return out, nil
}
