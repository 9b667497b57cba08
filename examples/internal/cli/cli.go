// Package cli holds what the example programs share: the -url and -user
// flags, signing in (or starting an embedded emulator when no URL is
// given), and showing job progress.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/seed9bfd6bbc/ags"
	"github.com/seed9bfd6bbc/ags/agstest"
)

// Site is where an example connects: the site URL and user from the -url
// and -user flags, the password from AGS_PASSWORD, or an embedded emulator
// when no URL is given. Each example builds its own ags.Client from it.
type Site struct {
	URL      string
	User     string
	Password string // only ever from $AGS_PASSWORD, never a flag
	// HTTPClient carries the requests: one that trusts the embedded
	// emulator's certificate, or for a real site one on ags.DefaultTransport
	// (what ags.NewClient uses by default).
	HTTPClient *http.Client
	// Emulator options used when no URL is given.
	Emulator []agstest.Option
	// Seed, if set, prepares the embedded emulator (adds services, ...).
	Seed func(*agstest.Server)
}

// AddFlags registers -url and -user (defaults from AGS_URL and
// AGS_USERNAME). The password comes only from AGS_PASSWORD, never a flag.
func (s *Site) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&s.URL, "url", os.Getenv("AGS_URL"), "site URL, e.g. https://gis.example.com:6443/arcgis (default $AGS_URL; empty: an embedded emulator)")
	fs.StringVar(&s.User, "user", os.Getenv("AGS_USERNAME"), "username (default $AGS_USERNAME); the password is read from $AGS_PASSWORD")
}

// Open completes the site after the flags are parsed. With no URL it
// starts an embedded emulator (saying so on out) and signs in as its
// default user; close releases it.
func (s *Site) Open(out io.Writer) (close func(), err error) {
	if strings.TrimSpace(s.URL) == "" {
		emuOpts := append([]agstest.Option{agstest.WithJobDuration(1500 * time.Millisecond)}, s.Emulator...)
		srv := agstest.NewTLSServer(emuOpts...)
		if s.Seed != nil {
			s.Seed(srv)
		}
		fmt.Fprintf(out, "No -url or AGS_URL given: running against an embedded ArcGIS Server emulator at %s\n", srv.URL())
		s.URL, s.User, s.Password, s.HTTPClient = srv.URL(), agstest.DefaultUsername, agstest.DefaultPassword, srv.Client()
		return srv.Close, nil
	}
	s.Password = os.Getenv("AGS_PASSWORD")
	switch {
	case s.User == "":
		return nil, errors.New("set -user or AGS_USERNAME to the user to sign in as")
	case s.Password == "":
		return nil, errors.New("set AGS_PASSWORD to the password of " + s.User)
	}
	s.HTTPClient = &http.Client{Transport: ags.DefaultTransport()}
	return func() {}, nil
}

// SignalContext returns a context cancelled by Ctrl-C or SIGTERM.
func SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// Main runs an example's run function and exits non-zero with the error,
// which carries the server's own words.
func Main(run func(ctx context.Context, args []string, stdout io.Writer) error) {
	ctx, stop := SignalContext()
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// Progress shows job progress: one updating line on a terminal, plain
// lines otherwise. Server messages are printed once each, on lines of
// their own.
type Progress struct {
	mu   sync.Mutex
	w    io.Writer
	tty  bool
	last string
	open bool // a status line is on screen without a newline
}

// NewProgress writes to w, updating in place if w is a terminal.
func NewProgress(w io.Writer) *Progress {
	return &Progress{w: w, tty: IsTerminal(w)}
}

// IsTerminal reports whether w is a character device.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// OnStatus returns a PollOptions.OnStatus callback labelled with label.
func (p *Progress) OnStatus(label string) func(ags.JobStatus) {
	return func(st ags.JobStatus) {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, m := range st.NewMessages {
			p.clearLine()
			fmt.Fprintf(p.w, "  %s: %s\n", label, m.Description)
		}
		line := fmt.Sprintf("%s: job %s %s", label, shortID(st.JobID), st.State)
		if st.Progress != nil {
			if st.Progress.Percent > 0 {
				line += fmt.Sprintf(" %3.0f%%", st.Progress.Percent)
			}
			if msg := strings.TrimSpace(st.Progress.Message); msg != "" {
				line += " - " + msg
			}
		}
		if p.tty {
			fmt.Fprintf(p.w, "\r\033[K%s", line)
			p.open = true
		} else if line != p.last {
			fmt.Fprintln(p.w, line)
		}
		p.last = line
	}
}

// Done ends an updating line.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLine()
	if p.tty && p.last != "" {
		fmt.Fprintln(p.w, p.last)
	}
	p.last = ""
}

func (p *Progress) clearLine() {
	if p.tty && p.open {
		fmt.Fprint(p.w, "\r\033[K")
		p.open = false
	}
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12] + "…"
	}
	return id
}
