package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/brokerly/accounts/app/command"
)

// redrawInterval keeps a terminal's progress line to a few redraws a second, however
// fast rows go by.
const redrawInterval = 250 * time.Millisecond

// progressMode is `credentials rotate --progress`: auto redraws a progress line only when
// stderr is a terminal.
type progressMode string

const (
	progressAuto   progressMode = "auto"
	progressAlways progressMode = "always"
	progressNever  progressMode = "never"
)

func parseProgressMode(s string) (progressMode, bool) {
	switch m := progressMode(s); m {
	case progressAuto, progressAlways, progressNever:
		return m, true
	}
	return "", false
}

// live says whether to redraw the progress line on w.
func (m progressMode) live(w io.Writer) bool {
	switch m {
	case progressAlways:
		return true
	case progressAuto:
		f, ok := w.(*os.File)
		if !ok {
			return false
		}
		info, err := f.Stat()
		return err == nil && info.Mode()&os.ModeCharDevice != 0
	}
	return false
}

// rotationProgress shows a rotation run to an operator: on a terminal one line redrawn in
// place (rows done of total, rate, time left), and in any case one summary line at the end.
type rotationProgress struct {
	w     io.Writer
	runID string
	live  bool
	now   func() time.Time
	start time.Time
	drawn time.Time // last redraw; zero before the first
}

func newRotationProgress(w io.Writer, runID string, live bool, now func() time.Time) *rotationProgress {
	return &rotationProgress{w: w, runID: runID, live: live, now: now, start: now()}
}

// update redraws the line, unless it was drawn less than redrawInterval ago; the last
// row is always drawn, so the line ends at its final count.
func (p *rotationProgress) update(pr command.RotationProgress) {
	if !p.live || pr.Total == 0 {
		return
	}
	now := p.now()
	if !p.drawn.IsZero() && now.Sub(p.drawn) < redrawInterval && pr.Done < pr.Total {
		return
	}
	p.drawn = now
	elapsed := now.Sub(p.start)
	rate := perSecond(pr.Done, elapsed)
	left := "time left unknown"
	if rate > 0 {
		remaining := time.Duration(float64(pr.Total-pr.Done) / rate * float64(time.Second))
		left = "about " + remaining.Round(time.Second).String() + " left"
	}
	// \r and erase-to-end-of-line: the next draw replaces this one.
	fmt.Fprintf(p.w, "\r\x1b[Krotation %s: %d/%d rows (%d%%), %.0f rows/s, %s",
		p.runID, pr.Done, pr.Total, pr.Done*100/pr.Total, rate, left)
}

// finish ends the progress line and prints the summary: what was done of what was stale,
// how long it took, and each outcome.
func (p *rotationProgress) finish(report command.RotationReport, interrupted bool) {
	if !p.drawn.IsZero() {
		fmt.Fprintln(p.w)
	}
	elapsed := p.now().Sub(p.start)
	verdict := "finished"
	if interrupted {
		verdict = "interrupted (run it again to continue)"
	}
	pr := report.Progress()
	fmt.Fprintf(p.w, "rotation %s %s: %d/%d rows in %s, %.0f rows/s; %d resealed, %d skipped, %d failed\n",
		p.runID, verdict, pr.Done, pr.Total, elapsed.Round(time.Millisecond), perSecond(pr.Done, elapsed),
		report.Resealed, report.Skipped, len(report.Failed))
}

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
