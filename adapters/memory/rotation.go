package memory

import (
	"bytes"
	"context"
	"slices"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/ports"
)

var _ ports.RotationStore = (*Store)(nil)

func (s *Store) Stale(_ context.Context, primaryKeyID string, after domain.ID, limit int) ([]ports.SealedPair, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ports.SealedPair
	for _, c := range s.credentials {
		stale := c.APIKey().KeyID != primaryKeyID || c.SecretKey().KeyID != primaryKeyID
		if stale && c.ID().Compare(after) > 0 {
			out = append(out, ports.SealedPair{CredentialID: c.ID(), Owner: c.Owner(), APIKey: c.APIKey(), SecretKey: c.SecretKey()})
		}
	}
	slices.SortFunc(out, func(a, b ports.SealedPair) int { return a.CredentialID.Compare(b.CredentialID) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (s *Store) CountStale(_ context.Context, primaryKeyID string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.credentials {
		if c.APIKey().KeyID != primaryKeyID || c.SecretKey().KeyID != primaryKeyID {
			n++
		}
	}
	return n, nil
}

func (s *Store) SealedByKey(context.Context) (map[string]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, c := range s.credentials {
		out[c.APIKey().KeyID]++
		out[c.SecretKey().KeyID]++
	}
	return out, nil
}

func (s *Store) Reseal(ctx context.Context, old, resealed ports.SealedPair) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.credentials[old.CredentialID]
	if !ok || !sameSealed(c.APIKey().KeyID, c.APIKey().Ciphertext, old.APIKey.KeyID, old.APIKey.Ciphertext) ||
		!sameSealed(c.SecretKey().KeyID, c.SecretKey().Ciphertext, old.SecretKey.KeyID, old.SecretKey.Ciphertext) {
		return false, nil
	}
	c.Reseal(resealed.APIKey, resealed.SecretKey)
	s.credentials[c.ID()] = c
	s.append([]credential.Event{rotationEvent(ctx, c, credential.Rotated, credential.OK)})
	return true, nil
}

func (s *Store) OpenFailed(ctx context.Context, p ports.SealedPair) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.credentials[p.CredentialID]; ok && c.Owner() == p.Owner {
		s.append([]credential.Event{rotationEvent(ctx, c, credential.OpenFailed, credential.Failed)})
	}
	return nil
}

func rotationEvent(ctx context.Context, c credential.Credential, action credential.Action, outcome credential.Outcome) credential.Event {
	return credential.Event{CredentialID: c.ID(), AccountID: c.AccountID(), Owner: c.Owner(),
		Action: action, Outcome: outcome, RequestID: ports.RequestID(ctx)}
}

func sameSealed(keyA string, ctA []byte, keyB string, ctB []byte) bool {
	return keyA == keyB && bytes.Equal(ctA, ctB)
}
