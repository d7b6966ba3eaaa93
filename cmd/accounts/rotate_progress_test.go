package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/app/command"
	"github.com/brokerly/accounts/domain"
)

// fakeNow is a clock the test moves by hand.
type fakeNow struct{ t time.Time }

func (f *fakeNow) now() time.Time { return f.t }

// On a terminal the line is redrawn in place at most every redrawInterval, always at the
// last row, with done of total, rate and time left; the summary ends it.
func TestRotationProgressRedrawsAtMostAFewTimesASecond(t *testing.T) {
	t.Parallel()
	clock := &fakeNow{t: time.Unix(1_800_000_000, 0)}
	var out strings.Builder
	p := newRotationProgress(&out, "rotate-0123456789abcdef", true, clock.now)

	step := func(after time.Duration, done int) {
		clock.t = clock.t.Add(after)
		p.update(command.RotationProgress{Done: done, Total: 300})
	}
	step(0, 0)
	step(100*time.Millisecond, 20)  // too soon: not drawn
	step(200*time.Millisecond, 60)  // 300 ms in: drawn
	step(100*time.Millisecond, 100) // too soon again
	step(10*time.Millisecond, 300)  // the last row: drawn anyway
	clock.t = clock.t.Add(1090 * time.Millisecond)
	p.finish(command.RotationReport{Total: 300, Resealed: 298, Skipped: 1, Failed: []domain.ID{{1}}}, false)

	require.Equal(t, ""+
		"\r\x1b[Krotation rotate-0123456789abcdef: 0/300 rows (0%), 0 rows/s, time left unknown"+
		"\r\x1b[Krotation rotate-0123456789abcdef: 60/300 rows (20%), 200 rows/s, about 1s left"+
		"\r\x1b[Krotation rotate-0123456789abcdef: 300/300 rows (100%), 732 rows/s, about 0s left"+
		"\nrotation rotate-0123456789abcdef finished: 300/300 rows in 1.5s, 200 rows/s; 298 resealed, 1 skipped, 1 failed\n",
		out.String())
}

// Off a terminal nothing is drawn while the run goes on: one summary line at the end.
func TestRotationProgressOffATerminalIsOneSummaryLine(t *testing.T) {
	t.Parallel()
	clock := &fakeNow{t: time.Unix(1_800_000_000, 0)}
	var out strings.Builder
	p := newRotationProgress(&out, "rotate-x", false, clock.now)
	for done := range 51 {
		clock.t = clock.t.Add(time.Second)
		p.update(command.RotationProgress{Done: done, Total: 50})
	}
	p.finish(command.RotationReport{Total: 50, Resealed: 50}, false)
	require.Equal(t, "rotation rotate-x finished: 50/50 rows in 51s, 1 rows/s; 50 resealed, 0 skipped, 0 failed\n", out.String())

	out.Reset()
	p = newRotationProgress(&out, "rotate-y", false, clock.now)
	clock.t = clock.t.Add(2 * time.Second)
	p.finish(command.RotationReport{Total: 9, Resealed: 3}, true)
	require.Equal(t, "rotation rotate-y interrupted (run it again to continue): 3/9 rows in 2s, 2 rows/s; 3 resealed, 0 skipped, 0 failed\n", out.String())
}

func TestProgressModeDetectsATerminalAsACharacterDevice(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "yes", "Always", "auto "} {
		_, ok := parseProgressMode(s)
		require.False(t, ok, "%q", s)
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer devNull.Close()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()

	for _, tc := range []struct {
		mode string
		w    *os.File
		live bool
	}{
		{"auto", devNull, true}, // a character device, as a terminal is
		{"auto", w, false},
		{"always", w, true},
		{"never", devNull, false},
	} {
		m, ok := parseProgressMode(tc.mode)
		require.True(t, ok)
		require.Equal(t, tc.live, m.live(tc.w), "%s on %s", tc.mode, tc.w.Name())
	}
	require.False(t, progressAuto.live(&strings.Builder{}), "not a file at all")
}
