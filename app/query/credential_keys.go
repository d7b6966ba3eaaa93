package query

import (
	"context"
	"fmt"
	"slices"

	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/ports"
)

// CredentialKeys lists the configured keys (in CREDENTIAL_KEYS order, primary first) with
// how many stored values each seals, followed by every key id stored values name that is
// not configured: those values cannot be opened.
type CredentialKeys struct {
	Configured []credential.KeyStatus
}

type CredentialKeysHandler struct {
	store ports.RotationStore
}

func NewCredentialKeysHandler(store ports.RotationStore) CredentialKeysHandler {
	if store == nil {
		panic("query: CredentialKeysHandler needs a rotation store")
	}
	return CredentialKeysHandler{store: store}
}

func (h CredentialKeysHandler) Handle(ctx context.Context, q CredentialKeys) ([]credential.KeyUse, error) {
	sealed, err := h.store.SealedByKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("count sealed values by key: %w", err)
	}
	out := make([]credential.KeyUse, 0, len(q.Configured)+len(sealed))
	for _, k := range q.Configured {
		out = append(out, credential.KeyUse{KeyStatus: k, Sealed: sealed[k.ID]})
		delete(sealed, k.ID)
	}
	missing := make([]string, 0, len(sealed))
	for id := range sealed {
		missing = append(missing, id)
	}
	slices.Sort(missing)
	for _, id := range missing {
		out = append(out, credential.KeyUse{KeyStatus: credential.KeyStatus{ID: id, State: credential.KeyMissing}, Sealed: sealed[id]})
	}
	return out, nil
}
