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
}

// RotationReport counts what a run did. Failed rows could not be opened (tampered, or
// their key is gone) and were left as they are.
type RotationReport struct {
	Resealed int
	Skipped  int // changed by someone else meanwhile; already under the primary key
	Failed   []domain.ID
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
	var after domain.ID
	for {
		pairs, err := h.store.Stale(ctx, h.cipher.PrimaryKeyID(), after, batch)
		if err != nil {
			return report, fmt.Errorf("rotate keys: %w", err)
		}
		for _, old := range pairs {
			after = old.CredentialID
			resealed, err := h.reseal(old)
			if errors.Is(err, ports.ErrUndecryptable) {
				report.Failed = append(report.Failed, old.CredentialID)
				if err := h.store.OpenFailed(ctx, old); err != nil {
					return report, fmt.Errorf("rotate keys: credential %s: %w", old.CredentialID, err)
				}
				continue
			}
			if err != nil {
				return report, fmt.Errorf("rotate keys: credential %s: %w", old.CredentialID, err)
			}
			swapped, err := h.store.Reseal(ctx, old, resealed)
			if err != nil {
				return report, fmt.Errorf("rotate keys: credential %s: %w", old.CredentialID, err)
			}
			if swapped {
				report.Resealed++
			} else {
				report.Skipped++
			}
		}
		if len(pairs) < batch {
			return report, nil
		}
	}
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
