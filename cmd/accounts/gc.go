package main

import (
	"runtime/debug"
)

// defaultGCPercent is the service's GOGC unless the environment sets one. The live heap of a
// request-serving instance is a few megabytes (nothing is cached), so the runtime's default
// of 100 collects every few megabytes of garbage, thousands of times a second under load;
// at 400 the heap peaks at a few tens of megabytes and the collector's share of the CPU
// drops accordingly.
const defaultGCPercent = 400

func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}
