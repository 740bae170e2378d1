package crash

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the coverbridge executable built for this test run, with the
// race detector when the tests run with it.
var binary string

// buildBinary builds cmd/coverbridge into dir.
func buildBinary(dir string) (string, error) {
	bin := filepath.Join(dir, "coverbridge")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "github.com/coverbridge/coverbridge/cmd/coverbridge")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("build coverbridge: %w", err)
	}
	return bin, nil
}

// engines runs "coverbridge serve --roles engine" processes of one consumer
// group, kills and restarts them.
type engines struct {
	t       *testing.T
	env     []string
	group   string
	logDir  string
	batches []int // batch sizes, one picked per start

	mu      sync.Mutex
	procs   []*engineProc
	started int
	died    []string // processes that exited without being told to
}

// engineProc is one engine process.
type engineProc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed once the process has exited
	err  error         // its exit status, once done
	// expected is set before the process is killed or stopped.
	expected bool
}

// start runs a new engine process in slot i.
func (e *engines) start(i int) *engineProc {
	e.t.Helper()
	e.mu.Lock()
	e.started++
	n := e.started
	e.mu.Unlock()
	batch := e.batches[n%len(e.batches)]
	p := &engineProc{name: fmt.Sprintf("engine-%d.%d", i, n), done: make(chan struct{})}
	p.log = filepath.Join(e.logDir, p.name+".log")
	f, err := os.Create(p.log)
	if err != nil {
		e.t.Fatal(err)
	}
	p.cmd = exec.Command(binary, "serve", "--roles", "engine", "--consumer-group", e.group,
		"--log-format", "json", "--batch-size", strconv.Itoa(batch), "--batch-wait", "20ms", "--db-max-conns", "4")
	p.cmd.Env = append(os.Environ(), e.env...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // dies with the test binary
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		f.Close()
		e.t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		f.Close()
		e.mu.Lock()
		if !p.expected {
			e.died = append(e.died, fmt.Sprintf("%s exited by itself: %v; its log ends: %s", p.name, p.err, tail(p.log, 3)))
		}
		e.mu.Unlock()
		close(p.done)
	}()
	e.mu.Lock()
	for len(e.procs) <= i {
		e.procs = append(e.procs, nil)
	}
	e.procs[i] = p
	e.mu.Unlock()
	return p
}

// waitReady waits until the process in slot i has its engine consuming:
// faults are injected into running engines, not into ones still starting.
func (e *engines) waitReady(i int) {
	e.t.Helper()
	p := e.proc(i)
	end := time.Now().Add(time.Minute)
	for {
		b, _ := os.ReadFile(p.log)
		if bytes.Contains(b, []byte(`"msg":"engine consuming"`)) {
			return
		}
		e.check()
		if time.Now().After(end) {
			e.t.Fatalf("%s not consuming within a minute; its log ends: %s", p.name, tail(p.log, 3))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill sends SIGKILL to the process in slot i and waits until it is gone.
func (e *engines) kill(i int) {
	e.t.Helper()
	p := e.proc(i)
	e.mu.Lock()
	p.expected = true
	e.mu.Unlock()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		e.t.Fatalf("kill %s: %v", p.name, err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		e.t.Fatalf("%s still running 30s after SIGKILL", p.name)
	}
}

// signal sends sig to the process in slot i.
func (e *engines) signal(i int, sig syscall.Signal) {
	e.t.Helper()
	p := e.proc(i)
	if err := p.cmd.Process.Signal(sig); err != nil {
		e.t.Fatalf("signal %s to %s: %v", sig, p.name, err)
	}
}

// stop sends SIGTERM to every process and waits for clean exits.
func (e *engines) stop() {
	e.t.Helper()
	e.mu.Lock()
	procs := append([]*engineProc(nil), e.procs...)
	for _, p := range procs {
		if p != nil {
			p.expected = true
		}
	}
	e.mu.Unlock()
	for _, p := range procs {
		if p == nil {
			continue
		}
		select {
		case <-p.done:
			continue // already gone: reported by check
		default:
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			e.t.Errorf("stop %s: %v", p.name, err)
			continue
		}
		select {
		case <-p.done:
			if p.err != nil {
				e.t.Errorf("%s exited with %v after SIGTERM", p.name, p.err)
			}
		case <-time.After(60 * time.Second):
			e.t.Errorf("%s did not stop within 60s of SIGTERM", p.name)
			p.cmd.Process.Kill()
			<-p.done
		}
	}
	e.mu.Lock()
	e.procs = nil
	e.mu.Unlock()
}

func (e *engines) proc(i int) *engineProc {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.procs[i]
}

// check fails the test when a process exited without being told to.
func (e *engines) check() {
	e.t.Helper()
	e.mu.Lock()
	died := append([]string(nil), e.died...)
	e.mu.Unlock()
	if len(died) > 0 {
		e.report()
		e.t.Fatalf("engine processes died: %v", died)
	}
}

// report logs what went wrong in the engines' logs: errors, data races and
// panics, a few lines of each.
func (e *engines) report() {
	files, _ := filepath.Glob(filepath.Join(e.logDir, "*.log"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var shown int
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		race := 0 // lines of a race report still to show, with its stacks
		for sc.Scan() && shown < 40 {
			line := sc.Bytes()
			if race > 0 {
				e.t.Logf("%s: %s", filepath.Base(f), line)
				if race--; bytes.HasPrefix(line, []byte("=====")) {
					race = 0
				}
				continue
			}
			if bytes.Contains(line, []byte("DATA RACE")) {
				race = 80
			}
			if bytes.Contains(line, []byte(`"level":"ERROR"`)) || bytes.Contains(line, []byte(`"level":"WARN"`)) || race > 0 ||
				bytes.HasPrefix(line, []byte("panic:")) || bytes.HasPrefix(line, []byte("fatal error:")) {
				e.t.Logf("%s: %s", filepath.Base(f), line)
				shown++
			}
		}
	}
}

// logCounts counts log lines of the engines that contain each of needles.
func (e *engines) logCounts(needles ...string) map[string]int {
	out := map[string]int{}
	files, _ := filepath.Glob(filepath.Join(e.logDir, "*.log"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, n := range needles {
			out[n] += bytes.Count(b, []byte(n))
		}
	}
	return out
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	return string(bytes.Join(lines[max(0, len(lines)-n):], []byte("\n")))
}
