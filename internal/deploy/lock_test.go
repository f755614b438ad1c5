package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/challengectl/challengectl/internal/tfdriver"
)

// slowTF adds a resource whose creation sleeps (a local-exec), so a deploy
// holds the state lock long enough to be contended and interrupted. The
// sleep length is unusual so the test can find leftover processes by it.
const slowSleep = 173

var slowTF = fmt.Sprintf(`
resource "terraform_data" "slow" {
  triggers_replace = var.source_code_hash
  provisioner "local-exec" {
    command = "sleep %d"
  }
}
`, slowSleep)

// waitForLock polls the lock item until an apply holds it (bounded).
// A deploy that ends first (done) fails the test with its error.
func waitForLock(t *testing.T, o Options, op string, done <-chan error) *tfdriver.LockInfo {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("deploy ended before taking the lock: %v", err)
		default:
		}
		li, err := LockHolder(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if li != nil && li.Operation == op {
			return li
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no %s lock appeared within 60s", op)
	return nil
}

// TestLockContentionAndInterrupt: while one deploy is applying (lock held),
// a second deploy fails at once with the holder named and the unlock remedy;
// then Ctrl-C (context cancel) stops the first cleanly: context.Canceled, no
// tofu or sleep process left behind, the lock released.
func TestLockContentionAndInterrupt(t *testing.T) {
	e := newBackend(t)
	o := e.options(t, map[string]string{"slow.tf": slowTF})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, o)
		done <- err
	}()
	held := waitForLock(t, o, "OperationTypeApply", done)
	if held.ID == "" || held.Who == "" || held.Created.IsZero() {
		t.Fatalf("lock item lacks holder details: %+v", held)
	}

	// Another machine (its own copy of the configuration) tries to deploy.
	other := e.options(t, map[string]string{"slow.tf": slowTF})
	start := time.Now()
	_, err := Run(context.Background(), other)
	var le *tfdriver.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second deploy: want *LockedError, got %T: %v", err, err)
	}
	if le.ID != held.ID || le.Who != held.Who || le.Operation != "OperationTypeApply" {
		t.Errorf("LockedError = %+v, want the holder %+v", le.LockInfo, held)
	}
	if msg := le.Error(); !bytes.Contains([]byte(msg), []byte("challengectl unlock "+held.ID)) {
		t.Errorf("message lacks the unlock remedy: %s", msg)
	}
	t.Logf("contended deploy failed after %v: %v", time.Since(start).Round(time.Millisecond), err)

	// Ctrl-C.
	cancel()
	var runErr error
	select {
	case runErr = <-done:
	case <-time.After(90 * time.Second):
		t.Fatal("deploy did not stop within 90s of the interrupt")
	}
	if !errors.Is(runErr, context.Canceled) {
		t.Fatalf("interrupted deploy: want context.Canceled, got %v", runErr)
	}
	if left := processesMatching(t, "tofu", strconv.Itoa(slowSleep)); len(left) > 0 {
		t.Errorf("processes left after the interrupt: %v", left)
	}
	if li, err := LockHolder(context.Background(), o); err != nil || li != nil {
		t.Errorf("lock after the interrupt: %+v, %v (want released)", li, err)
	}
	// And the state is usable at once, with no lock wait.
	o.PlanOnly = true
	if _, err := Run(context.Background(), o); err != nil {
		t.Errorf("plan after the interrupt: %v", err)
	}
}

// processesMatching lists live processes (pid: cmdline) whose executable is
// named exe and are our descendants, or whose command line holds marker.
func processesMatching(t *testing.T, exe, marker string) []string {
	t.Helper()
	me := os.Getpid()
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == me {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if err != nil || len(cmd) == 0 {
			continue
		}
		args := bytes.Split(bytes.TrimRight(cmd, "\x00"), []byte{0})
		isExe := filepath.Base(string(args[0])) == exe && descendsFrom(pid, me)
		hasMarker := false
		for _, a := range args[1:] {
			if bytes.Contains(a, []byte("sleep "+marker)) || string(a) == marker {
				hasMarker = true
			}
		}
		if isExe || hasMarker {
			out = append(out, fmt.Sprintf("%d: %s", pid, bytes.Join(args, []byte(" "))))
		}
	}
	return out
}

func descendsFrom(pid, ancestor int) bool {
	for i := 0; i < 64 && pid > 1; i++ {
		stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			return false
		}
		// Fields after the ")" that closes the command name: state ppid ...
		i := bytes.LastIndexByte(stat, ')')
		var state byte
		var ppid int
		if _, err := fmt.Sscanf(string(stat[i+2:]), "%c %d", &state, &ppid); err != nil {
			return false
		}
		if ppid == ancestor {
			return true
		}
		pid = ppid
	}
	return false
}

func fmtSscan(s string, pid *int) (int, error) { return fmt.Sscanf(s, "%d:", pid) }
