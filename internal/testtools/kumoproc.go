package testtools

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// KumoProcess runs the pinned kumo binary on a free loopback port and
// returns its host:port; it is stopped when the test ends. Unlike the
// in-process server, each process has its own storage, and kumo's
// execute-api can call its own Lambda endpoint at KUMO_HOST:KUMO_PORT.
func KumoProcess(t testing.TB) string {
	t.Helper()
	addr, stop, err := StartKumo(Path(t, "kumo"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return addr
}

// StartKumo starts the kumo binary bin on a free loopback port with dir as
// its working directory, waits (bounded) until it accepts connections and
// returns its host:port and a function that stops it.
func StartKumo(bin, dir string) (addr string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	_ = ln.Close()
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", port)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "KUMO_HOST=127.0.0.1", "KUMO_PORT="+port)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start kumo: %w", err)
	}
	stop = func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	addr = "127.0.0.1:" + port
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return addr, stop, nil
		}
		if i == 100 {
			stop()
			return "", nil, fmt.Errorf("kumo did not listen on %s: %w\n%s", addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
