// Command load runs campfire's performance scenarios against bench servers
// that it starts as separate processes (server-campfire and
// server-centrifuge, built beside it), pinned with taskset to their own
// core, over loopback. It prints a table and writes every figure as JSON.
//
//	ulimit -n 65536; taskset -c 1 bin/load [-quick] [-json results.json] [-scenarios idle,fanout,posting,reads,storm] [-sync normal,full]
//
// See BENCHMARKS.md for the method and the figures.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

type config struct {
	quick      bool
	binDir     string
	serverCPU  string
	jsonPath   string
	scenarios  map[string]bool
	pprof      bool
	profileDir string
	readsDB    string
	readsN     int
	topologies string
	bodies     string
	rates      string
	duration   time.Duration
	repeat     int
	stormRate  float64
	syncs      []string
}

var cfg config

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func main() {
	exe, _ := os.Executable()
	flag.BoolVar(&cfg.quick, "quick", false, "a smoke run of about a minute: smaller sizes, shorter runs")
	flag.StringVar(&cfg.binDir, "bin", filepath.Dir(exe), "directory holding server-campfire and server-centrifuge")
	flag.StringVar(&cfg.serverCPU, "server-cpu", "0", "CPU list the servers are pinned to with taskset (empty: no pinning)")
	flag.StringVar(&cfg.jsonPath, "json", "", "write the results as JSON to this file")
	scen := flag.String("scenarios", "idle,fanout,posting,reads,storm", "comma-separated scenarios to run")
	flag.StringVar(&cfg.profileDir, "profile", "", "save pprof CPU and allocation profiles of the servers into this directory")
	flag.StringVar(&cfg.readsDB, "reads-db", "", "the reads scenario's seeded database, kept between runs (default: in the temp directory)")
	flag.IntVar(&cfg.readsN, "reads-messages", 0, "messages in the reads scenario's database (default 1,000,000; -quick 20,000)")
	flag.StringVar(&cfg.topologies, "topologies", "", "fan-out topologies, e.g. 1x1000,10x100 (default: 1x1000,10x100,100x10; -quick 10x100)")
	flag.StringVar(&cfg.bodies, "bodies", "", "fan-out body sizes in bytes, e.g. 100,1024 (default: 100,1024; -quick 100)")
	flag.StringVar(&cfg.rates, "rates", "", "fan-out offered deliveries/s, 0 meaning saturation (default: 10000,100000,1000000,0)")
	flag.IntVar(&cfg.repeat, "repeat", 1, "fan-out: run each measurement this many times (alternating servers); the table shows medians")
	flag.Float64Var(&cfg.stormRate, "storm-rate", 0, "reconnect storm: messages/s posted (default 1,000; -quick 200)")
	flag.DurationVar(&cfg.duration, "duration", 0, "length of each fan-out run (default 5s; -quick 1s)")
	syncs := flag.String("sync", "normal", "posting: the SQLite synchronous settings to run in turn, e.g. normal,full,normal,full")
	flag.Parse()
	cfg.syncs = strings.Split(*syncs, ",")
	cfg.scenarios = map[string]bool{}
	for _, s := range strings.Split(*scen, ",") {
		cfg.scenarios[strings.TrimSpace(s)] = true
	}
	cfg.pprof = cfg.profileDir != ""
	if cfg.pprof {
		os.MkdirAll(cfg.profileDir, 0o755)
	}
	if cfg.readsN == 0 {
		cfg.readsN = 1_000_000
		if cfg.quick {
			cfg.readsN = 20_000
		}
	}
	if cfg.readsDB == "" {
		cfg.readsDB = filepath.Join(os.TempDir(), fmt.Sprintf("campfire-bench-reads-%d.db", cfg.readsN))
	}

	rep := &Report{
		Started: time.Now().UTC(), Quick: cfg.quick, Machine: machine(),
		Command: strings.Join(os.Args, " "), GoVersion: runtime.Version(), ServerCPU: cfg.serverCPU,
	}
	ctx := context.Background()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		killRunning()
		os.Exit(2)
	}()
	run := func(name string, f func(context.Context, *Report) error) {
		if !cfg.scenarios[name] {
			return
		}
		t := time.Now()
		logf("== %s", name)
		if err := f(ctx, rep); err != nil {
			logf("%s failed: %v", name, err)
			rep.Errors = append(rep.Errors, name+": "+err.Error())
		}
		logf("== %s took %v", name, time.Since(t).Round(time.Second))
	}
	run("idle", runIdle)
	run("fanout", runFanout)
	run("posting", runPosting)
	run("reads", runReads)
	run("storm", runStorm)
	rep.Seconds = time.Since(rep.Started).Seconds()

	printReport(os.Stdout, rep)
	if cfg.jsonPath != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(cfg.jsonPath, append(b, '\n'), 0o644); err != nil {
			logf("writing %s: %v", cfg.jsonPath, err)
			os.Exit(1)
		}
	}
	if len(rep.Errors) > 0 {
		os.Exit(1)
	}
}

// Machine describes where the figures were measured.
type Machine struct {
	NProc    int    `json:"nproc"`
	CPUModel string `json:"cpu_model"`
	Kernel   string `json:"kernel"`
	LoadAvg  string `json:"loadavg_at_start"`
}

func machine() Machine {
	m := Machine{NProc: runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPUModel = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.LoadAvg = strings.TrimSpace(string(b))
	}
	// NumCPU is this process's affinity; nproc of the machine is what is asked.
	if b, err := os.ReadFile("/sys/devices/system/cpu/online"); err == nil {
		m.NProc = cpuCount(strings.TrimSpace(string(b)))
	}
	return m
}

// cpuCount counts a CPU list such as "0-1" or "0,2-3".
func cpuCount(list string) int {
	n := 0
	for _, part := range strings.Split(list, ",") {
		var a, b int
		if _, err := fmt.Sscanf(part, "%d-%d", &a, &b); err == nil {
			n += b - a + 1
		} else {
			n++
		}
	}
	return n
}
