package main

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times; 100 on every Linux build
// that matters.
const clockTicks = 100

// cpuSplit is where one step's CPU went, each in percent of one core (so a 2-core machine
// has 200 % in all), and what the service and the PostgreSQL backends spent per request
// (or pgbench transaction) in µs.
type cpuSplit struct {
	service, postgres, client float64
	other                     float64 // everything else busy on the machine: other work distorts the step
	serviceUS, postgresUS     float64 // CPU time per request; 0 when nothing completed
	ok                        bool
}

// cpuMeter measures one step's CPU time of the service and of the PostgreSQL backends
// connected to the bench database (found by their process title), so other databases' work on a shared server does not count. It
// samples every 100 ms because backends of clients that disconnect take their counters
// with them: a backend's last 100 ms at most are lost.
type cpuMeter struct {
	db      string
	svc     int
	start   time.Time
	first   map[int]time.Duration // backends seen in the first sample, and their CPU then
	last    map[int]time.Duration
	svcCPU  [2]time.Duration
	svcOK   bool
	pgFound bool
	busy    time.Duration // the machine's busy CPU time (/proc/stat) at the start
	quit    chan struct{}
	done    chan struct{}
}

func startCPUMeter(db string, svcPID int) *cpuMeter {
	m := &cpuMeter{db: db, svc: svcPID, start: time.Now(), last: map[int]time.Duration{},
		quit: make(chan struct{}), done: make(chan struct{})}
	m.sample()
	m.first = maps.Clone(m.last)
	m.busy = machineBusy()
	if st, ok := procStat(svcPID); ok && svcPID > 0 {
		m.svcCPU[0], m.svcOK = st.self, true
	}
	go func() {
		defer close(m.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-m.quit:
				return
			case <-t.C:
				m.sample()
			}
		}
	}()
	return m
}

func (m *cpuMeter) sample() {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range dirs {
		pid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil {
			continue
		}
		if _, seen := m.last[pid]; !seen && !m.isBackend(pid) {
			continue
		}
		if st, ok := procStat(pid); ok && st.comm == "postgres" {
			m.last[pid] = st.self
			m.pgFound = true
		}
	}
}

func (m *cpuMeter) isBackend(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.HasPrefix(b, []byte("postgres: ")) {
		return false
	}
	// "postgres: [cluster_name: ]user database host state"; the database's name is unique.
	title := strings.ReplaceAll(string(b), "\x00", " ")
	return strings.Contains(title, " "+m.db+" ")
}

// finish stops the meter and returns the split, given the load generator's own CPU time
// and the requests (or transactions) the step completed.
func (m *cpuMeter) finish(client time.Duration, requests int64) cpuSplit {
	close(m.quit)
	<-m.done
	m.sample()
	wall := time.Since(m.start)
	if m.svcOK {
		st, ok := procStat(m.svc)
		m.svcCPU[1], m.svcOK = st.self, ok
	}
	if !m.pgFound || wall <= 0 || (m.svc > 0 && !m.svcOK) {
		return cpuSplit{}
	}
	var pg time.Duration
	for pid, cpu := range m.last {
		pg += cpu - m.first[pid]
	}
	svc := m.svcCPU[1] - m.svcCPU[0]
	other := max(0, machineBusy()-m.busy-svc-pg-client)
	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / wall.Seconds() }
	perRequest := func(d time.Duration) float64 {
		if requests <= 0 {
			return 0
		}
		return float64(d.Microseconds()) / float64(requests)
	}
	return cpuSplit{service: pct(svc), postgres: pct(pg), client: pct(client), other: pct(other),
		serviceUS: perRequest(svc), postgresUS: perRequest(pg), ok: true}
}

// machineBusy is the CPU time all CPUs spent on anything but idling and waiting for I/O,
// from the first line of /proc/stat.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	for i, v := range f[1:9] { // user nice system idle iowait irq softirq steal
		if i == 3 || i == 4 {
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

type procStatLine struct {
	comm     string
	ppid     int
	self     time.Duration // utime + stime
	children time.Duration // cutime + cstime
}

func procStat(pid int) (procStatLine, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStatLine{}, false
	}
	return parseProcStat(string(b))
}

// parseProcStat reads "pid (comm) state ppid ... utime stime cutime cstime ..."; comm may
// hold spaces and parentheses, so the fields are counted from the last ')'.
func parseProcStat(line string) (procStatLine, bool) {
	open, end := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
	if open < 0 || end < open {
		return procStatLine{}, false
	}
	f := strings.Fields(line[end+1:])
	// f[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14..17.
	if len(f) < 15 {
		return procStatLine{}, false
	}
	num := func(i int) int64 { v, _ := strconv.ParseInt(f[i], 10, 64); return v }
	ticks := func(n int64) time.Duration { return time.Duration(n) * time.Second / clockTicks }
	return procStatLine{
		comm:     line[open+1 : end],
		ppid:     int(num(1)),
		self:     ticks(num(11) + num(12)),
		children: ticks(num(13) + num(14)),
	}, true
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, val, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(val)
		}
	}
	return "?"
}

func memTotal() string {
	kb := procMeminfo()["MemTotal"]
	if kb == 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
}

func procMeminfo() map[string]int64 {
	out := map[string]int64{}
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if f := strings.Fields(rest); ok && len(f) >= 1 {
			v, _ := strconv.ParseInt(f[0], 10, 64)
			out[name] = v
		}
	}
	return out
}
