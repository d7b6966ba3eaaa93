package ports

import "context"

type requestIDKey struct{}

// WithRequestID carries the id of the request a use case serves, so what it records (the
// credential audit trail) names the request, as the request log does.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the id WithRequestID set, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
