// Package iostreams carries the three standard streams and what is known about
// them (TTY or not, colour or not), so commands never touch os.Stdout directly
// and tests can swap in buffers. Modelled on cli/cli's iostreams.
package iostreams

import (
	"bytes"
	"io"
	"os"
	"sync"

	"golang.org/x/term"
)

// IOStreams is the IO a command may use. Out receives the command's result
// (text or the single JSON document); ErrOut receives progress and logs.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
	noColor   bool
}

// System returns streams bound to the process's stdin, stdout and stderr.
func System() *IOStreams {
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	s.stdinTTY = isTerminal(os.Stdin)
	s.stdoutTTY = isTerminal(os.Stdout)
	s.stderrTTY = isTerminal(os.Stderr)
	// NO_COLOR (https://no-color.org): any non-empty value disables colour.
	s.noColor = os.Getenv("NO_COLOR") != ""
	return s
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// Test returns streams backed by buffers, none of them a TTY. Out and
// ErrOut are safe for concurrent writes, as os.Stdout and os.Stderr are: a
// command writes to stderr from several goroutines (the logger, a progress
// bar, the signal handler's "interrupted" line).
func Test() (s *IOStreams, in *bytes.Buffer, out, errOut *Buffer) {
	in, out, errOut = &bytes.Buffer{}, &Buffer{}, &Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut, noColor: true}, in, out, errOut
}

// Buffer is a bytes.Buffer safe for concurrent use: the test double of an
// output stream.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Bytes returns a copy of what was written so far.
func (b *Buffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// Len is the number of bytes written so far.
func (b *Buffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

// Reset discards what was written.
func (b *Buffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

// IsStdinTTY reports whether input comes from a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// IsStdoutTTY reports whether results go to a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether progress goes to a terminal (progress bars only then).
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// SetTTY sets all three TTY flags at once; for tests.
func (s *IOStreams) SetTTY(tty bool) { s.stdinTTY, s.stdoutTTY, s.stderrTTY = tty, tty, tty }

// CanPrompt reports whether a question can be asked and answered: both ends
// must be a terminal. Commands never wait for input otherwise.
func (s *IOStreams) CanPrompt() bool { return s.stdinTTY && s.stderrTTY }

// SetNoColor turns colour off (the --no-color flag).
func (s *IOStreams) SetNoColor(v bool) {
	if v {
		s.noColor = true
	}
}

// ColorEnabled reports whether stderr decoration is allowed: only on a TTY and
// never when NO_COLOR or --no-color is set.
func (s *IOStreams) ColorEnabled() bool { return s.stderrTTY && !s.noColor }
