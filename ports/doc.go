// Package ports declares what the use cases need from the outside world, as small
// interfaces that adapters implement. It imports the domain and the standard library only.
//
// The shape of the repositories: every method takes the acting user.Session and is one
// whole transaction of its own. The store resolves the session first, inside that
// transaction (an unknown, signed-out, expired or banned session fails with
// ErrUnauthenticated and nothing else happens), then does the work as that user only. A
// use case therefore never says how the database should run it — how many round trips,
// which snapshot, whether read-only: that is the adapter's business. Where a new value
// needs its owner's id before it can be built (an account, a sealed credential), the use
// case hands the repository a function that builds it for the owner the session resolves
// to. There is no unit of work spanning calls: no use case needs two calls to commit
// together, and each call re-checks the session.
package ports
