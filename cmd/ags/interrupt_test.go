package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seed9bfd6bbc/ags"
	"github.com/seed9bfd6bbc/ags/agstest"
)

// cancelOn is stderr that ends a context once a line containing trigger
// is written: it stands for Ctrl-C (Main turns SIGINT and SIGTERM into the
// end of the context), pressed once the job is submitted.
type cancelOn struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	trigger string
	cancel  context.CancelFunc
}

func (w *cancelOn) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
	if strings.Contains(w.buf.String(), w.trigger) {
		w.cancel()
	}
	return len(b), nil
}

func (w *cancelOn) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestInterruptPrintsJobToReattach(t *testing.T) {
	for _, cancelJob := range []bool{false, true} {
		// A clock that stands still: the job stays running until cancelled.
		frozen := time.Now()
		srv := agstest.NewServer(agstest.WithClock(func() time.Time { return frozen }))
		srv.AddService("Imagery", "Portland", "ImageServer", nil)
		env := map[string]string{"AGS_URL": srv.URL(), "AGS_USERNAME": agstest.DefaultUsername,
			"AGS_PASSWORD": agstest.DefaultPassword, "AGS_INSECURE_HTTP": "1"}

		ctx, cancel := context.WithCancel(context.Background())
		stderr := &cancelOn{trigger: "submitted job", cancel: cancel}
		var stdout bytes.Buffer
		a := newApp(strings.NewReader(""), &stdout, stderr, func(k string) string { return env[k] })
		argv := []string{"refresh", "Imagery/Portland.ImageServer"}
		if cancelJob {
			argv = append(argv, "--cancel-on-interrupt")
		}
		code := a.run(ctx, argv)
		cancel()

		assert.Equal(t, exitRetry, code, stderr.String())
		m := regexp.MustCompile(`ags job (?:wait|status) (gp:\S+)`).FindStringSubmatch(stderr.String())
		require.NotNil(t, m, stderr.String())
		ref, err := parseJobRef(m[1])
		require.NoError(t, err)

		c, err := ags.NewClient(srv.URL(), ags.WithCredentials(agstest.DefaultUsername, agstest.DefaultPassword), ags.WithInsecureHTTP())
		require.NoError(t, err)
		job, err := c.GP.Job(ref.Path, ref.ID)
		require.NoError(t, err)
		st, err := job.Status(context.Background())
		require.NoError(t, err)
		if cancelJob {
			assert.Equal(t, ags.JobCancelled, st.State, st.Status)
		} else {
			assert.False(t, st.State.Terminal(), "the job goes on: %s", st.Status)
		}
		srv.Close()
	}
}
